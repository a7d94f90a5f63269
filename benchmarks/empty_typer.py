"""The baseline for `csops --help`: an empty Typer app."""

import typer

app = typer.Typer()


@app.command()
def main() -> None:
    """Nothing."""


if __name__ == "__main__":
    app()
