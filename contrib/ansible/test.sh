#!/usr/bin/env bash
# CI test of the Ansible role and playbook: against localhost with
# `connection: local`, on a fake node root (no cluster to reach). Installs
# ansible-core from PyPI into target/ansible-venv when it is missing.
# Checks: the bundle is fetched, nothing is left on the "node", the playbook
# prints the fleet summary, and the fetched bundle analyzes.
set -euo pipefail
cd "$(dirname "$0")/../.."
top=$PWD
venv=target/ansible-venv
if ! command -v ansible-playbook >/dev/null 2>&1; then
  if [ ! -x "$venv/bin/ansible-playbook" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check 'ansible-core>=2.15,<2.19'
  fi
  export PATH="$top/$venv/bin:$PATH"
fi
cargo build -q -p collector -p analyzer
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# A fake Raspberry Pi: a kubeadm node tree and fake system tools.
read -r root fakebin _ < <(cargo run -q -p testkit --example bench-node -- "$work/node" 0)
case "$(uname -m)" in
  aarch64|arm64) arch=aarch64 ;;
  armv7l|armv6l) arch=armv7 ;;
  *) arch=x86_64 ;;
esac
mkdir -p "$work/collectors" "$work/bundles" "$work/remote"
cp target/debug/nodejoin-collect "$work/collectors/nodejoin-collect-$arch"
become=true
if [ "$(id -u)" = 0 ] && ! command -v sudo >/dev/null 2>&1; then
  become=false # already root, and no sudo to become with
fi
cat > "$work/vars.json" <<JSON
{
  "nodejoin_hosts": "localhost",
  "nodejoin_collectors_dir": "$work/collectors",
  "nodejoin_fetch_dir": "$work/bundles",
  "nodejoin_remote_tmp": "$work/remote",
  "nodejoin_collect_args": ["--root", "$root", "--no-network", "--max-time", "60s"],
  "nodejoin_collect_env": {"PATH": "$fakebin"},
  "nodejoin_become": $become,
  "nodejoin_bin": "$top/target/debug/nodejoin",
  "ansible_python_interpreter": "$(command -v python3)"
}
JSON
ANSIBLE_NOCOLOR=1 ANSIBLE_RETRY_FILES_ENABLED=0 ansible-playbook -i localhost, -c local \
  contrib/ansible/collect.yml -e "@$work/vars.json" > "$work/play.log" 2>&1 || { cat "$work/play.log"; exit 1; }
fail() { echo "contrib/ansible/test.sh: $*" >&2; cat "$work/play.log" >&2; exit 1; }
[ -f "$work/bundles/nodejoin-localhost.tgz" ] || fail "bundle not fetched"
[ -z "$(ls -A "$work/remote")" ] || fail "left on the node: $(ls -A "$work/remote")"
grep -q "Fleet summary: 1 inputs" "$work/play.log" || fail "no fleet summary in the playbook output"
"$top/target/debug/nodejoin" analyze --format json "$work/bundles" > "$work/report.jsonl" || [ $? = 1 ] || fail "analyze failed"
python3 - "$work/report.jsonl" <<'PY' || fail "bundle did not analyze"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert lines[-1]["kind"] == "summary" and lines[-1]["inputs"] == 1 and not lines[-1]["unreadable"], lines[-1]
r = lines[0]
assert r["kind"] == "bundle-tgz", r["kind"]
assert r["facts"].get("identity.hostname") == "pi-bench", r["facts"].get("identity.hostname")
PY
echo "contrib/ansible/test.sh: ok ($(grep -c 'ok:\|changed:' "$work/play.log") task results)"
