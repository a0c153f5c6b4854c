// Package runlock makes one process at a time the writer of a folder (a
// pretraining run folder, an eval or fine-tuning output folder): an exclusive
// flock(2) on a lock file inside it. The kernel drops the lock when its
// holder exits for any reason, SIGKILL included, so a crash never leaves a
// stale lock; the lock file itself carries the holder's pid and host for the
// message a second writer prints, and is removed when the holder releases it.
//
// Two `d2v pretrain --resume DIR` started together (a requeued batch job, a
// second terminal) otherwise both run, write the same checkpoints in turn and
// interleave their lines in metrics.jsonl. flock works on local filesystems
// and on NFS (Linux emulates it with fcntl byte-range locks there).
package runlock
