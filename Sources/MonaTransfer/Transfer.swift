/// MonaTransfer: cross-modal models (embedder → pretrained body → head), tasks, training, baselines, and the
/// knowledge-alignment stages (MoNA, ORCA) with the source-knowledge analysis.
public enum Transfer {}
