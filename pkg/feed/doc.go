// Package feed holds the pretraining data feeds: a Source per modality
// (images: patches and block or random masks; text: a tokenised corpus
// packed into sequences with BERT or span corruption; audio: random crops
// with wav2vec 2.0 span masks; images or speech streamed from shards,
// shards.go) whose batches, masks and augmentations (random resized crop,
// flip) are a pure function of (seed, step, sample), so a resumed or
// data-parallel run sees the same ones; Steps, the inputs of successive
// steps from a sampler (in memory) or a shard.Loader; the data fingerprint a checkpoint records; and the loaders that
// evaluation shares (LoadImages, Batcher, LoadSpeech, LoadTokenizer, the
// WordNet task options). What only the data can decide about a step's
// input (text's vocabulary and masked count) comes back as an Input, which
// step.SetupWith reads.
//
// It may import pkg/config, pkg/data, pkg/speech, pkg/shard, pkg/masking, pkg/tokenizer and the
// standard library; never Gorgonia, pkg/model or pkg/train.
package feed
