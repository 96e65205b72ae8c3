#!/usr/bin/env python3
"""Generates Fixtures/convnet_tiny_inputs.json: convnet_tiny forwards at native small inputs, from PyTorch.

    python3 Tests/NeuralNetworksTests/Fixtures/make_input_fixtures.py

Tested with torch 2.13 (CPU), numpy 2.4. For each case (channels x size: 1x28, 3x40) the model is
official_models.ConvNetTiny(num_classes=(10, 7), in_channels, size), its parameters set by make_fixtures.hashed_init
(the rule the Swift test reproduces), a hashed batch of 3 images (seed 77) is run in training mode (batch
statistics, updating the running statistics once from 0 / 1) and then in evaluation mode (those running statistics), and the heads and the 256-d features are stored:
{case: {"train_head0", "train_head1", "train_features", "eval_head0": {"shape", "data"}}}.
"""
import json
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import make_fixtures as mf  # noqa: E402  (hash_uniform, hashed_init, entry, official_models)


def main():
    torch.set_num_threads(1)
    out = {}
    for channels, size in [(1, 28), (3, 40)]:
        model = mf.om.ConvNetTiny(num_classes=(10, 7), in_channels=channels, size=size)
        mf.hashed_init(model)
        x = mf.ht(77, (3, channels, size, size))
        model.train()
        with torch.no_grad():
            feats = model.trunk(x)  # one training-mode forward: the running statistics are updated once
            heads = mf.om.run_heads(model, feats)
        model.eval()
        with torch.no_grad():
            eval_heads = model(x)
        out[f"{channels}x{size}"] = {"train_head0": mf.entry(heads[0]), "train_head1": mf.entry(heads[1]),
                                     "train_features": mf.entry(feats), "eval_head0": mf.entry(eval_heads[0])}
    path = os.path.join(HERE, "convnet_tiny_inputs.json")
    with open(path, "w") as f:
        json.dump(out, f, separators=(",", ":"))
    print("wrote", path, os.path.getsize(path), "bytes")


if __name__ == "__main__":
    main()
