// Command d2v pretrains, fine-tunes and evaluates data2vec models.
//
// One file per command (pretrain.go, eval.go, finetune.go, bench.go,
// tokenize.go, shard.go; root.go holds the shared flags, config loading and
// the exit codes): each only parses flags, loads the config, constructs
// objects and calls pkg/train, pkg/downstream or the data packages. No
// maths and no graph code here.
package main
