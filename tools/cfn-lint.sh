#!/usr/bin/env bash
# npm run lint:cfn [-- --no-synth] [-- --output DIR]
#
# Lints every stack template of the app with cfn-lint (AWS's CloudFormation linter: resource schemas, property
# values, references, best-practice rules), the templates `cdk synth` writes and CloudFormation deploys. It
# synthesizes first (cdk-nag runs then too), reads the templates the cloud assembly's manifest.json lists (so a
# stale *.template.json left in the directory is never linted), and fails on any finding that .cfnlintrc.yaml does
# not acknowledge, each acknowledgement with its reason.
#
#   --no-synth      lint the cloud assembly as it is (after `npm run synth`)
#   --output DIR    the cloud assembly directory (default: cdk.out)
#
# cfn-lint is Python and optional: nothing else here needs it. Install it with `pip install cfn-lint` (tested with
# cfn-lint 1.51); without it this command says so and exits 127.
set -euo pipefail
cd "$(dirname "$0")/.."

synth=true
output=cdk.out
while [ $# -gt 0 ]; do
  case "$1" in
    --no-synth) synth=false ;;
    --output | -o)
      [ $# -ge 2 ] || { echo "lint:cfn: $1 needs a directory" >&2; exit 2; }
      output="$2"
      shift
      ;;
    -h | --help)
      sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *) echo "lint:cfn: unknown argument '$1' (--no-synth, --output DIR)" >&2; exit 2 ;;
  esac
  shift
done

if ! command -v cfn-lint > /dev/null 2>&1; then
  cat >&2 << 'EOF'
lint:cfn: cfn-lint is not installed. It is AWS's CloudFormation linter, a Python package:

    pip install cfn-lint        # or: pipx install cfn-lint

Then run `npm run lint:cfn` again. Nothing else in this repository needs it.
EOF
  exit 127
fi

if [ "$synth" = true ]; then
  npx cdk synth --quiet --output "$output"
fi

manifest="$output/manifest.json"
if [ ! -f "$manifest" ]; then
  echo "lint:cfn: no cloud assembly at $output (no manifest.json): run \`npm run synth\` first, or drop --no-synth" >&2
  exit 2
fi

# The stack templates the manifest lists, one per line.
mapfile -t templates < <(
  node -e '
    const path = require("node:path");
    const dir = process.argv[1];
    const manifest = require(path.resolve(dir, "manifest.json"));
    for (const artifact of Object.values(manifest.artifacts ?? {})) {
      if (artifact.type === "aws:cloudformation:stack") console.log(path.join(dir, artifact.properties.templateFile));
    }
  ' "$output"
)
if [ "${#templates[@]}" -eq 0 ]; then
  echo "lint:cfn: $manifest lists no stack template" >&2
  exit 2
fi

echo "cfn-lint $(cfn-lint --version | awk '{print $NF}') on ${#templates[@]} templates: ${templates[*]}"
# Any finding (error, warning or informational) that .cfnlintrc.yaml does not acknowledge fails the run.
if cfn-lint --config-file .cfnlintrc.yaml --non-zero-exit-code informational -- "${templates[@]}"; then
  echo "cfn-lint: no finding but those .cfnlintrc.yaml acknowledges, each with its reason"
else
  status=$?
  echo "cfn-lint: findings above (exit code $status; cfn-lint adds 2 for errors, 4 for warnings, 8 for informational findings)" >&2
  exit "$status"
fi
