import ArgumentParser
import Foundation
import MonaRunKit
import MonaServe

/// `mona serve`: the dashboard over folders of runs and benchmarks.
struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve a dashboard of runs and benchmarks over HTTP: live curves, comparisons, result tables.",
        discussion: """
        Looks for run directories (metrics.jsonl or the .mona-run marker) and benchmark folders (results.json) \
        under each DIR, up to six levels deep, on every request: runs that start, grow or disappear are seen \
        at the next refresh. Pages: /runs (paged, sorted and filtered by the server), /run?id=… (curves live \
        from the event stream /api/run/events), /compare?run=…&run=…, /bench?id=…; JSON endpoints under /api \
        (docs/serve.md). Nothing is fetched from the internet.

        The server only listens on loopback unless --allow-remote is given: it has no authentication, and \
        anyone who reaches it can read the served folders' runs.
        """)

    @Argument(help: "Folders of run directories or benchmark folders (default: runs).")
    var directories: [String] = []

    @Option(help: "TCP port (0: any free port, printed at start).")
    var port: Int = 8080

    @Option(help: "Address to listen on.")
    var host: String = "127.0.0.1"

    @Flag(help: "Allow --host to be an address other than loopback (no authentication is offered).")
    var allowRemote = false

    func run() throws {
        try reportingErrors(command: "serve", mode: .auto) { try serve() }
    }

    private func serve() throws {
        if directories.contains(where: \.isEmpty) { throw CommandError("<directories>: an empty folder name; give a folder of runs") }
        guard (0...65535).contains(port) else { throw CommandError("--port \(port): expected 0…65535") }
        let loopback = HTTPServer.isLoopback(host)
        guard loopback || allowRemote else {
            throw CommandError("--host \(host) is not a loopback address; the dashboard has no authentication, so "
                               + "pass --allow-remote as well to serve it to other machines")
        }
        let folders = (directories.isEmpty ? ["runs"] : directories).map { URL(fileURLWithPath: $0) }
        let catalog: RunCatalog
        do { catalog = try RunCatalog(roots: folders) } catch let error as ServeError { throw CommandError(error.description) }
        let dashboard = Dashboard(catalog: catalog)
        let server: HTTPServer
        do {
            server = try HTTPServer(host: host, port: UInt16(port)) { request in dashboard.handle(request) }
        } catch let error as ServeError {
            throw CommandError(error.description)
        }
        if !loopback {
            FileHandle.standardError.write(Data(("mona serve: warning: listening on \(host), reachable from other "
                + "machines, without authentication: anyone who can connect can read these runs\n").utf8))
        }
        server.start()
        let shown = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        // Unbuffered, so that a script reading the first line learns the port at once.
        FileHandle.standardOutput.write(Data(("mona serve: http://\(shown):\(server.port)/runs  "
            + "(\(catalog.roots.map(\.path).joined(separator: ", ")); Ctrl-C stops)\n").utf8))
        while true { sleep(3600) }
    }
}
