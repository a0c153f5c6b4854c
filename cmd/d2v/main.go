// Command d2v pretrains, fine-tunes and evaluates data2vec models.
package main

import "os"

func main() { os.Exit(Main(os.Args[1:], os.Stdout, os.Stderr)) }
