// Package tokenizer owns text tokenisation for the text modality: GPT-2
// byte-level BPE loaded from vocab.json + merges.txt (Hugging Face naming) or
// encoder.json + vocab.bpe (OpenAI naming), and a vocabulary-free byte
// tokenizer.
//
// Both implement Tokenizer. Encode never adds BOS/EOS: the caller frames
// sequences with Special(). Special-token strings such as "<s>" or "<mask>"
// that occur in input text are ordinary text and are split and merged like
// any other characters; only ids produced by the caller are specials.
//
// The BPE mirrors OpenAI gpt-2 src/encoder.py (Radford et al., 2019,
// "Language Models are Unsupervised Multitask Learners"): text is split by
// the GPT-2 pre-tokenisation pattern, each piece's UTF-8 bytes are mapped to
// printable runes by a fixed byte-to-unicode table, and adjacent symbols are
// merged lowest merge rank first. data2vec text (Baevski et al., 2022) uses
// the RoBERTa variant of the same vocabulary, whose vocab.json already holds
// <s>, </s>, <pad> and <mask>.
//
// This package must not import gorgonia.
package tokenizer
