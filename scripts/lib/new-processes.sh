# Sourced by scripts/ensure-services.sh (and its test).

# run_then_stop_new NAME COMMAND...: runs COMMAND, then stops (SIGTERM) every process named NAME that appeared
# while it ran, leaving those that ran before it alone (a Prometheus the user runs, say). Returns COMMAND's status.
run_then_stop_new() {
  local name=$1
  shift
  local before pid status
  before=" $(pgrep -x "$name" | tr '\n' ' ') "
  "$@"
  status=$?
  for pid in $(pgrep -x "$name"); do
    case "$before" in
      *" $pid "*) ;;
      *) ${SUDO:-} kill "$pid" 2>/dev/null || true ;;
    esac
  done
  return "$status"
}
