// Package config owns d2v's typed configuration: the Config tree that mirrors
// the YAML files, its defaults, loading (Go defaults < YAML file < --set
// key=value overrides), validation and the YAML form written to
// <run>/config.yaml and into each checkpoint.
//
// It is the only package that imports viper. Other packages receive a
// *Config and never see YAML keys, flags or viper.
//
// Default values follow the data2vec 1.0 vision recipe (Baevski et al. 2022,
// "data2vec: A General Framework for Self-supervised Learning in Speech,
// Vision and Language", §4.1, and the official BEiT-based vision code),
// scaled down so that `d2v pretrain` trains a small ViT on 28x28 MNIST in a
// few minutes on two CPU cores.
package config
