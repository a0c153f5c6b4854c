// Package shard owns the streaming dataset format of d2v: sharded tar files
// in the WebDataset layout (Aizman et al., 2020; github.com/webdataset), a
// JSON manifest beside them, and a loader that reads them sequentially and
// decodes on the fly, so memory is bounded by the shuffle window and the
// prefetch queue, not by the dataset.
//
// A shard is a plain tar whose members are named <key>.<ext>; consecutive
// members with the same key form one example: an image (.png, .jpg), a clip
// (.wav) or a text (.txt), plus a class id (.cls, ASCII decimal) when the
// dataset is labelled. manifest.json lists the shards in order with their
// example counts, per-class counts, sizes and SHA-256 checksums (Manifest).
//
// Order (order.go) is a pure function of (seed, epoch): the shards are
// permuted, their examples concatenated, and every window of Window
// consecutive examples is permuted on its own (a shuffle buffer whose state
// never depends on history). A run resumed at any step therefore reads
// exactly the examples it would have read, starting at the window that
// holds the step, and data-parallel rank r of n decodes only rows
// [r*B, (r+1)*B) of each global batch of n*B, skipping the other members'
// bytes, so n ranks see the same global batches as one process.
//
// The Loader streams any Set: a shard folder (Shards) or an image folder
// read file by file (ImageFolder), so a folder too large to decode up front
// trains without a conversion.
//
// This package must not import gorgonia.
package shard
