from routing_guard.cli import run

run()
