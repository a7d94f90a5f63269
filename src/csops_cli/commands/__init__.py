"""One module per command. Each body: parse options, call the core, render, exit."""
