import Foundation
import MonaJSON
import Testing
@testable import MonaServe

/// How the server handles connections: keep-alive, caps on connections and streams, slow and vanished clients,
/// and no socket or thread left behind.
@Suite struct ConnectionTests {
    func runningRun(_ tmp: TemporaryDirectory) throws -> URL {
        let run = try makeRun(tmp.url.appendingPathComponent("r"), lines: [trainLine(step: 1, loss: 0.9)])
        try markRunning(run)
        return run
    }

    @Test func keepAliveServesPipelinedRequestsAndClosesWhenAsked() throws {
        let tmp = TemporaryDirectory()
        _ = try runningRun(tmp)
        var limits = HTTPLimits()
        limits.maxRequestsPerConnection = 4
        let server = try TestServer([tmp.url], limits: limits)
        let client = try TestClient(port: server.server.port)
        // Two requests in one send: both answered, in order, on the same connection.
        try client.send("GET /api/runs HTTP/1.1\r\nHost: x\r\n\r\nHEAD /runs HTTP/1.1\r\nHost: x\r\n\r\n")
        let a = try client.response()
        #expect(a.status == 200 && a.headers["connection"] == "keep-alive")
        #expect(try JSONValue.parse(json: Array(a.body.utf8))["runs"]?.arrayValue?.count == 1)
        let b = try client.response(head: true)
        #expect(b.status == 200 && b.headers["connection"] == "keep-alive" && Int(b.headers["content-length"] ?? "") ?? 0 > 0)
        try client.send("GET /api/run?id=0/r HTTP/1.1\r\n\r\n")
        #expect(try client.response().status == 200)
        // The fourth request is the connection's last.
        try client.send("GET /api/benches HTTP/1.1\r\n\r\n")
        let d = try client.response()
        #expect(d.status == 200 && d.headers["connection"] == "close")
        #expect(!client.fill() && client.closedByServer)

        for (request, why) in [("GET /runs HTTP/1.1\r\nConnection: close\r\n\r\n", "asked to close"),
                               ("GET /runs HTTP/1.0\r\n\r\n", "HTTP/1.0"),
                               ("GET /nowhere%zz HTTP/1.1\r\n\r\n", "a malformed request")] {
            let c = try TestClient(port: server.server.port)
            try c.send(request)
            let r = try c.response()
            #expect(r.headers["connection"] == "close", "\(why)")
            #expect(!c.fill(), "still open after \(why)")
        }
        #expect(eventually(5) { server.server.activity.connections == 0 })
    }

    @Test func idleKeptAliveConnectionsAreClosed() throws {
        let tmp = TemporaryDirectory()
        var limits = HTTPLimits()
        limits.idleTimeout = 1
        let server = try TestServer([tmp.url], limits: limits)
        let client = try TestClient(port: server.server.port)
        try client.send("GET /api/runs HTTP/1.1\r\n\r\n")
        #expect(try client.response().headers["connection"] == "keep-alive")
        #expect(!client.fill(), "the idle connection was not closed")
        // A connection that never sends a request is closed too, without an answer.
        let silent = try TestClient(port: server.server.port)
        #expect(!silent.fill())
        #expect(eventually(5) { server.server.activity.connections == 0 })
    }

    @Test func connectionCapAnswers503AndFreesSlots() throws {
        let tmp = TemporaryDirectory()
        var limits = HTTPLimits()
        limits.maxConnections = 4
        let server = try TestServer([tmp.url], limits: limits)
        let port = server.server.port
        var idle: [TestClient] = []
        for _ in 0..<4 { idle.append(try TestClient(port: port)) }
        #expect(eventually(5) { server.server.activity.connections == 4 })
        #expect(try rawRequest("GET /runs HTTP/1.1\r\n\r\n", port: port).status == 503)
        idle.removeAll()  // closed by the client
        #expect(eventually(5) { server.server.activity.connections == 0 })
        #expect(try rawRequest("GET /runs HTTP/1.1\r\nConnection: close\r\n\r\n", port: port).status == 200)
    }

    /// Streams are capped (503 beyond, while other requests are served), and a client that goes away frees its
    /// stream, its thread and its socket.
    @Test func streamsAreCappedAndFreedWhenClientsVanish() throws {
        let tmp = TemporaryDirectory()
        _ = try runningRun(tmp)
        var limits = HTTPLimits()
        limits.maxStreams = 3
        let server = try TestServer([tmp.url], limits: limits)
        let port = server.server.port
        var streams: [TestClient] = []
        for _ in 0..<3 {
            let s = try openStream("/api/run/events?id=0/r", port: port)
            let first = try s.client.event()
            #expect(s.status == 200 && first.event == "snapshot")
            streams.append(s.client)
        }
        #expect(server.server.activity.streams == 3)
        let refused = try openStream("/api/run/events?id=0/r", port: port)
        #expect(refused.status == 503 && refused.headers["retry-after"] != nil)
        #expect(try server.json("/api/run/curves?id=0/r").status == 200)
        // Two clients vanish mid-stream (no goodbye): their streams end without anything being written to them.
        streams.removeFirst(2)
        #expect(eventually(5) { server.server.activity.streams == 1 })
        do {
            let another = try openStream("/api/run/events?id=0/r", port: port)
            #expect(another.status == 200)
        }
        streams.removeAll()
        #expect(eventually(5) { server.server.activity == (0, 0) })
        #expect(eventually(5) { openServerSockets(port: port) == 0 }, "server sockets left open: \(openServerSockets(port: port))")
    }

    /// A client that stops reading its stream is dropped once a send has blocked for the send timeout; others
    /// are served meanwhile.
    @Test func slowStreamClientIsDroppedWithoutBlockingOthers() throws {
        let tmp = TemporaryDirectory()
        let run = try runningRun(tmp)
        var limits = HTTPLimits()
        limits.sendTimeout = 1
        let server = try TestServer([tmp.url], limits: limits)
        let port = server.server.port
        let stalled = try openStream("/api/run/events?id=0/r&max=20000", port: port, receiveBuffer: 4096)
        #expect(stalled.status == 200)
        #expect(server.server.activity.streams == 1)
        // Wide records (300 curves each) make every update large; the client reads none of them.
        let wide = (0..<300).map { "\"m\($0)\": \(Double($0) / 7)" }.joined(separator: ", ")
        var step = 2, answered = 0
        let dropped = eventually(90) {
            var lines = ""
            for _ in 0..<200 {
                lines += "{\"stage\": \"finetune\", \"step\": \(step), \"split\": \"train\", \(wide)}\n"
                step += 1
            }
            try? append(lines, to: run.appendingPathComponent("metrics.jsonl"))
            if (try? rawRequest("GET /api/runs HTTP/1.1\r\nConnection: close\r\n\r\n", port: port).status) == 200 { answered += 1 }
            return server.server.activity.streams == 0
        }
        #expect(dropped, "the stalled stream was never dropped")
        #expect(answered > 0)
        #expect(try rawRequest("GET /runs HTTP/1.1\r\nConnection: close\r\n\r\n", port: port).status == 200)
        _ = stalled.client
    }

    /// Many short connections, kept alive or not, closed politely or abruptly: none stays open on the server.
    @Test func noSocketOrThreadOutlivesItsClient() throws {
        let tmp = TemporaryDirectory()
        _ = try runningRun(tmp)
        let server = try TestServer([tmp.url])
        let port = server.server.port
        for i in 0..<60 {
            let c = try TestClient(port: port)
            switch i % 4 {
            case 0: try c.send("GET /api/runs HTTP/1.1\r\n\r\n"); _ = try c.response()       // kept alive, then dropped
            case 1: try c.send("GET /runs HTTP/1.1\r\nConnection: close\r\n\r\n"); _ = try c.response()
            case 2: try c.send("GET /api/ru")                                                   // half a request
            default: try c.send("GET /api/run/events?id=0/r HTTP/1.1\r\n\r\n"); _ = try c.responseHead()  // a stream
            }
        }
        #expect(eventually(10) { server.server.activity == (0, 0) }, "\(server.server.activity)")
        #expect(eventually(5) { openServerSockets(port: port) == 0 }, "server sockets left open: \(openServerSockets(port: port))")
    }
}
