"""torch, transformers and peft are imported only where models run: folders, results, jobs,
caches, training configs and the CLI's parser (`survey-sim --help`) do without them."""
import subprocess
import sys

LIGHT = ("import survey_sim.paths, survey_sim.adapters, survey_sim.results, survey_sim.jobs, survey_sim.cache, "
         "survey_sim.training.config, survey_sim.training.status; from survey_sim import cli; cli.build_parser()")


def test_light_modules_and_the_cli_parser_do_not_import_torch():
    code = LIGHT + "; import sys; print(sorted(m for m in ('torch', 'transformers', 'peft') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_the_help_of_every_command_prints_without_torch():
    code = ("import sys, contextlib, io\nfrom survey_sim import cli\nparser = cli.build_parser()\n"
            "for command in ('train', 'evaluate', 'predict', 'baselines', 'adapters'):\n"
            "    with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):\n"
            "        parser.parse_args([command, '--help'])\n"
            "print('torch' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
