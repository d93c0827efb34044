/// MonaRunKit: what a run leaves on disk (atomic files, JSONL metrics, SVG plots, Markdown reports) and how it
/// talks to the terminal (progress, quiet and JSON modes), plus YAML configuration files.
public enum RunKit {}
