from routing_guard.action.main import run

run()
