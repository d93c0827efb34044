import ArgumentParser
import Foundation
import MonaFormats
import MonaRunKit
import MonaTransfer

struct Bodies: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the known pretrained bodies and whether their assets are installed.",
        discussion: """
        Assets are looked up under $MONA_ASSETS, else ./.assets. A missing body names the fetch command \
        that installs it (scripts/fetch-assets.sh bodies).
        """)

    @Flag(help: "One JSON object per body.")
    var json = false

    func run() throws {
        let entries = BodyCatalog.entries()
        if json {
            for e in entries {
                var fields: [(String, RunValue)] = [("name", .string(e.name)), ("present", .bool(e.isPresent)),
                                                    ("summary", .string(e.summary))]
                if let hint = e.fetchHint { fields.append(("fetch", .string(hint))) }
                print(RunValue.object(fields).json)
            }
            return
        }
        let width = entries.map(\.name.count).max() ?? 0
        for e in entries {
            let status = e.isPresent ? "present" : "missing (run \(e.fetchHint ?? "scripts/fetch-assets.sh bodies"))"
            print(e.name.padding(toLength: width + 2, withPad: " ", startingAt: 0) + status + " — " + e.summary)
        }
    }
}
