// Command streamrss prepares the peak-RSS measurement of streamed
// pretraining (scripts/stream-rss.sh, docs/PERFORMANCE.md): it writes N
// synthetic photo-like 224x224 JPEGs into an image folder (two classes),
// or, given a shard folder written by d2v shard, writes a new folder whose
// manifest lists those shards again and again up to N examples (symbolic
// links to the same files), so a dataset far larger than the disk holds
// streams through the real loader.
//
//	streamrss images DIR N
//	streamrss repeat SHARDS OUT N
package main
