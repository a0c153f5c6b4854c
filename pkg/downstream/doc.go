// Package downstream uses a pretrained (or randomly initialised) student
// encoder: the labelled train/test splits of each modality's task
// (labelled.go), the Classifier graph (mean-pooled features and an
// optional LayerNorm + Linear head, run as parts like the pretraining
// step; classifier.go), frozen-feature evaluation with a linear probe and
// k-NN (evaluate.go, the maths in pkg/eval) and fine-tuning with
// layer-wise learning-rate decay (finetune.go).
//
// It may import pkg/step (Setup, InitEncoder), pkg/train (the optimiser,
// checkpoint reading), pkg/feed, pkg/eval, pkg/plot, pkg/model, pkg/ops,
// pkg/data, pkg/speech, pkg/config, pkg/checkpoint, pkg/tokenizer and
// internal/*; nothing imports it but cmd/d2v.
package downstream
