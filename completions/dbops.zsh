#compdef dbops

_dbops_completion() {
  eval $(env _TYPER_COMPLETE_ARGS="${words[1,$CURRENT]}" _DBOPS_COMPLETE=complete_zsh dbops)
}

# Autoloaded from $fpath as _dbops (the first TAB): complete now. Sourced: register the function.
if [[ "$funcstack[1]" == "_dbops" ]]; then
  _dbops_completion "$@"
else
  compdef _dbops_completion dbops
fi
