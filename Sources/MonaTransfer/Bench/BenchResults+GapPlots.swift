import Foundation
import MonaRunKit

/// The modality-gap figures, one per body: the OTDD of two bodies is measured in two feature spaces, so their
/// tasks never share an axis (nor a correlation).
extension BenchResults {
    /// (file, SVG, caption) of every gap figure: gap vs. reuse and gap vs. MoNA's benefit over fine-tuning.
    func gapFigures(_ v: BenchVerdict) -> [(file: String, svg: String, caption: String)] {
        let labels = taskLabels
        func rho(_ s: SpearmanResult?, _ n: Int) -> String {
            s.map { String(format: "Spearman ρ = %.3f, n = %d, p = %@", $0.rho, $0.n, BenchResults.pValue($0.pValue)) }
                ?? "n = \(n), too few tasks for ρ"
        }
        var out: [(file: String, svg: String, caption: String)] = []
        for g in v.gap {
            let body = BenchRun.pathComponent(g.body)
            if !g.reusePoints.isEmpty {
                let r = rho(g.reuse, g.reusePoints.count)
                out.append(("plots/gap-vs-reuse-\(body).svg",
                            SVGPlot.scatter(title: "\(g.body): modality gap vs. source knowledge reuse (\(r))",
                                            xLabel: "OTDD gap (\(g.body) features)", yLabel: "source LP accuracy after fine-tuning",
                                            points: g.reusePoints.map { ($0.gap, $0.reuse, labels[$0.task] ?? $0.task) }),
                            "\(g.body): modality gap vs. reuse per task, \(r)"))
            }
            if !g.benefitPoints.isEmpty {
                let r = rho(g.benefit, g.benefitPoints.count)
                out.append(("plots/gap-vs-benefit-\(body).svg",
                            SVGPlot.scatter(title: "\(g.body): modality gap vs. MoNA's benefit over fine-tuning (\(r))",
                                            xLabel: "OTDD gap (\(g.body) features)",
                                            yLabel: "(MoNA − fine-tuning) / |fine-tuning|, + = MoNA better",
                                            points: g.benefitPoints.map { ($0.gap, $0.benefit, labels[$0.task] ?? $0.task) }),
                            "\(g.body): modality gap vs. MoNA's relative benefit over fine-tuning per task, \(r)"))
            }
        }
        return out
    }

    /// Spearman's ρ of gap vs. reuse within each body (bodies in task order; nil ρ below the verdict's minimum).
    var gapReuseByBody: [(body: String, tasks: Int, test: SpearmanResult?)] {
        var bodiesInOrder: [String] = []
        for t in tasks { if let b = bodies[t], !bodiesInOrder.contains(b) { bodiesInOrder.append(b) } }
        let points = gapReusePoints
        return bodiesInOrder.compactMap { b in
            let p = points.filter { bodies[$0.task] == b }
            guard !p.isEmpty else { return nil }
            let test = p.count >= BenchVerdict.minimumCorrelationTasks ? BenchStatistics.spearmanTest(p.map(\.gap), p.map(\.reuse)) : nil
            return (b, p.count, test)
        }
    }
}
