// Package teacher holds the EMA teacher's maths on plain slices: the decay
// schedule (fairseq get_annealed_rate), the EMA update paired by parameter
// name, and the construction of data2vec targets: the mean of the top-K layer
// outputs, each normalised without parameters, then an optional final norm
// (data2vec paper §3.3; fairseq data2vec_audio.py / data2vec_text.py).
package teacher
