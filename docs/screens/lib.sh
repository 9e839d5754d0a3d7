# What every capture script shares; each sets CONTROLROOM_PLANT and `session`, then sources this.
# out: this folder; logs: a fresh folder for the plant's logs; py: the virtualenv's python;
# shot NAME: the screen into NAME.txt; keys ...: tmux send-keys; wait_for TEXT [SECONDS].
out="$(cd "$(dirname "$0")" && pwd)"
logs="$(mktemp -d)"
py="$(command -v python)"
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"   # python -m runs this checkout's code (the virtualenv may be another checkout's)

shot() { tmux capture-pane -p -t "$session" > "$out/$1.txt"; echo "captured $1"; }
keys() { tmux send-keys -t "$session" "$@"; }
wait_for() {  # wait until the screen shows $1 (at most $2 seconds)
    for _ in $(seq 1 $(( ${2:-30} * 10 ))); do
        tmux capture-pane -p -t "$session" | grep -q -- "$1" && return 0
        sleep 0.1
    done
    echo "timed out waiting for: $1" >&2; tmux capture-pane -p -t "$session" >&2; return 1
}
