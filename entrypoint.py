"""The action image's entry (Dockerfile ENTRYPOINT): the action itself is `routing_guard.action`."""

from routing_guard.action.main import run

if __name__ == "__main__":
    run()
