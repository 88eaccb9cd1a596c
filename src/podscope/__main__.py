from podscope.cli.main import run

run()
