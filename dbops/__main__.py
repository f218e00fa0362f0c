from dbops.cli.app import main

main()
