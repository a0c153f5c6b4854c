// Package speech reads speech for the audio modality: a WAV reader (PCM
// 8/16/24/32-bit and IEEE float, WAVE_FORMAT_EXTENSIBLE; wav.go), a
// band-limited resampler to 16 kHz and per-clip normalisation
// (resample.go), folders of WAV clips labelled by class folder or flat and
// unlabelled (Set, LoadDir, ListDir; speech.go) with voice-disjoint
// splits and crop-or-pad to a fixed length, and the espeak-ng spoken
// digits embedded in the binary (Embedded; embedded.go, digits/).
//
// Every clip comes out mono, at Rate (16 kHz), normalised to zero mean and
// unit variance; a silent or empty clip is skipped and counted, a corrupt
// WAV is an error naming the file. Error messages keep the "data:" prefix
// of the readers they came from.
//
// It may import pkg/data (the stray-file note shared with image folders)
// and the standard library; never Gorgonia or a package that trains.
package speech
