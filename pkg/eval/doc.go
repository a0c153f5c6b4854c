// Package eval measures how good frozen features are, without training the
// encoder: a linear probe (multinomial logistic regression on standardised
// features) and a cosine-similarity k-nearest-neighbour classifier.
//
// Both protocols follow the self-supervised literature: the linear probe as in
// data2vec / MAE ("linear evaluation"), the weighted k-NN as in Wu et al. 2018
// (InstDisc, "Unsupervised Feature Learning via Non-Parametric Instance
// Discrimination") and Caron et al. 2021 (DINO), with temperature 0.07.
//
// Inputs are float32 row-major matrices; all arithmetic that accumulates is
// done in float64. Results are deterministic: they do not depend on the number
// of CPUs, because work is split into a fixed number of chunks that are summed
// in order. The package does not import gorgonia.
package eval
