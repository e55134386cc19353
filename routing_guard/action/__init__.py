"""The GitHub Action: the runner's environment in, one `app` request, workflow commands, the job
summary and step outputs out. Everything that knows about GitHub Actions lives in this package.

inputs (INPUT_* -> ActionInputs), commands (workflow commands, escapes, masks, the stop-commands
fence), annotations and outputs (renderers of the RunResult), policy (fail-on), changes (what a
pull request changed), main (the step). docs/runner.md lists the runner facts relied on.
"""
