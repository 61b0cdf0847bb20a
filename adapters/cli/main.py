"""`python -m adapters.cli.main`: the same as the `oms` console script."""

from adapters.cli import app

if __name__ == "__main__":
    app()
