import Foundation
import MonaJSON
import Testing
@testable import MonaServe

/// No request reaches a file outside the served folders: `..` in every spelling, absolute paths, encoded
/// separators, out-of-range roots, and symbolic links (a plot or a whole run pointing outside).
@Suite struct PathTraversalTests {
    let secret = "TOP-SECRET-\(UUID().uuidString)"

    /// root/served/{run1, bench}, root/outside/secret.svg (+ a run outside), links from inside to outside.
    func layout() throws -> (TemporaryDirectory, URL) {
        let tmp = TemporaryDirectory()
        let fm = FileManager.default
        let served = tmp.url.appendingPathComponent("served")
        let outside = tmp.url.appendingPathComponent("outside")
        try fm.createDirectory(at: outside, withIntermediateDirectories: true)
        try Data("<svg>\(secret)</svg>".utf8).write(to: outside.appendingPathComponent("secret.svg"))
        try Data(secret.utf8).write(to: outside.appendingPathComponent("config.yaml"))
        try makeRun(outside.appendingPathComponent("hidden-run"), lines: [trainLine(step: 1, loss: 0.5)])
        let run = try makeRun(served.appendingPathComponent("run1"), lines: [trainLine(step: 1, loss: 0.5)])
        try Data("<svg>ok</svg>".utf8).write(to: run.appendingPathComponent("plots/loss.svg"))
        try fm.createSymbolicLink(at: run.appendingPathComponent("plots/leak.svg"),
                                  withDestinationURL: outside.appendingPathComponent("secret.svg"))
        try fm.createSymbolicLink(at: served.appendingPathComponent("linked-run"),
                                  withDestinationURL: outside.appendingPathComponent("hidden-run"))
        return (tmp, served)
    }

    @Test func hostileIdsAndNamesAreRefused() throws {
        let (tmp, served) = try layout()
        _ = tmp
        let server = try TestServer([served])
        // The legitimate plot is served, so the refusals below are not a broken route.
        let ok = try server.get("/file?run=0/run1&name=loss.svg")
        #expect(ok.status == 200 && ok.body.contains("<svg>ok</svg>"))
        let targets = [
            "/run?id=0/..", "/run?id=0/../outside/hidden-run", "/run?id=0/..%2Foutside%2Fhidden-run",
            "/run?id=0%2F..%2F..%2Foutside", "/run?id=/etc", "/run?id=1", "/run?id=-1", "/run?id=00/run1",
            "/run?id=0/./run1/../../outside", "/run?id=0//run1", "/run?id=0/run1%00", "/run?id=0/linked-run",
            "/run?id=0/.hidden", "/run?id=99999999999999999999999",
            "/api/run?id=0/../outside/hidden-run", "/api/run/curves?id=0/linked-run",
            "/api/run/metrics?id=0/../outside/hidden-run", "/api/bench?id=0/..",
            "/file?run=0/run1&name=../../outside/secret.svg", "/file?run=0/run1&name=..%2F..%2Foutside%2Fsecret.svg",
            "/file?run=0/run1&name=%2e%2e%2f%2e%2e%2foutside%2fsecret.svg", "/file?run=0/run1&name=leak.svg",
            "/file?run=0/run1&name=/etc/passwd", "/file?run=0/run1&name=..", "/file?run=0/linked-run&name=x.svg",
            "/file?run=0/run1&name=loss.svg%00.svg", "/file?bench=0/..&name=secret.svg",
            "/../outside/secret.svg", "/%2e%2e/outside/secret.svg", "/file/../../outside/secret.svg",
        ]
        for target in targets {
            let r = try server.get(target)
            #expect(r.status == 404 || r.status == 400, "\(target): status \(r.status)")
            #expect(!r.body.contains(secret), "\(target) leaked the file outside the served folder")
        }
        // Listings do not follow the link out either.
        let runs = try server.json("/api/runs").value
        let ids = runs["runs"]?.arrayValue?.compactMap { $0["id"]?.stringValue } ?? []
        #expect(ids == ["0/run1"])
        #expect(!(try server.get("/runs").body.contains(secret)))
    }

    @Test func catalogResolvesOnlyPlainComponentsInsideTheRoot() throws {
        let (tmp, served) = try layout()
        _ = tmp
        let catalog = try RunCatalog(roots: [served])
        #expect(catalog.run(id: "0/run1") != nil)
        for id in ["0/..", "0/../outside/hidden-run", "0/linked-run", "1/run1", "0/run1/", "0/ run1", "", "0/run1/..", "+0/run1"] {
            #expect(catalog.run(id: id) == nil, "\(id)")
        }
        #expect(!RunCatalog.isPlainName("a\\b") && !RunCatalog.isPlainName("a\u{0}b") && !RunCatalog.isPlainName(".."))
    }

    @Test func requestParsingKeepsDecodedSlashesInsideOneSegment() throws {
        let r = try #require(HTTPServer.parse(target: "/run/a%2F..%2Fb?id=x%2Fy&id=z+w&empty"))
        #expect(r.segments == ["run", "a/../b"])
        #expect(r.parameters("id") == ["x/y", "z w"] && r.parameter("empty") == "")
        #expect(HTTPServer.parse(target: "/a%zz") == nil && HTTPServer.parse(target: "/a%00") == nil)
        #expect(HTTPServer.parse(target: "/?x=%ff") == nil)  // not UTF-8
        #expect(HTTPServer.parse(target: "http://host/") == nil)
    }

    @Test func malformedRequestsGetErrorsNotCrashes() throws {
        let tmp = TemporaryDirectory()
        let server = try TestServer([tmp.url])
        let port = server.server.port
        #expect(try rawRequest("POST /runs HTTP/1.1\r\n\r\n", port: port).status == 405)
        #expect(try rawRequest("GET /runs HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", port: port).status == 400)
        #expect(try rawRequest("GET /runs\r\n\r\n", port: port).status == 400)
        #expect(try rawRequest("GET  /runs HTTP/1.1\r\n\r\n", port: port).status == 400)
        #expect(try rawRequest("GET /runs HTTP/9\r\n\r\n", port: port).status == 400)
        #expect(try rawRequest("GET runs HTTP/1.1\r\n\r\n", port: port).status == 400)
        let huge = "GET /runs HTTP/1.1\r\nX: " + String(repeating: "a", count: 40_000) + "\r\n\r\n"
        #expect(try rawRequest(huge, port: port).status == 413)
        #expect(try rawRequest("GET /api/run/curves?id=0&max=5 HTTP/1.1\r\n\r\n", port: port).status == 404)
        // The server still answers afterwards.
        #expect(try server.get("/runs").status == 200)
        #expect(try server.get("/runs", method: "HEAD").body.isEmpty)
    }

    @Test func loopbackNames() {
        for host in ["127.0.0.1", "127.1.2.3", "localhost", "::1", "[::1]"] { #expect(HTTPServer.isLoopback(host), "\(host)") }
        for host in ["0.0.0.0", "192.168.1.2", "::", "example.org", "127.0.0.256", "128.0.0.1"] {
            #expect(!HTTPServer.isLoopback(host), "\(host)")
        }
    }
}
