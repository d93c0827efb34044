/// The package version shown by `mona --version`.
public let monaVersion = "0.1.0"
