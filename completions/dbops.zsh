#compdef dbops

_dbops_completion() {
  eval $(env _TYPER_COMPLETE_ARGS="${words[1,$CURRENT]}" _DBOPS_COMPLETE=complete_zsh dbops)
}

compdef _dbops_completion dbops
