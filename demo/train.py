"""Fine-tuning entry point of the Model Lens demo workspace.

Open this folder in VS Code with Model Lens installed: hover either checkpoint path below for its
summary (format, family, layers x heads, dim, parameters), or right-click it for "Model Lens: Inspect
Checkpoint" and "Model Lens: Analyze" / "Compare". `npm run demo` runs the same comparison headless.

The two checkpoints are the same 6-layer, 4-head, 128-wide ViT (patch 4, 32x32 input), trained on the
same data for the same number of steps (demo/training/train.py):
- MIM_CKPT: SimMIM-style masked image modeling, saved as {'model', 'epoch', 'args'} by torch.save;
- SUP_CKPT: supervised 14-way classification, saved as safetensors.
"""
import argparse

import torch

MIM_CKPT = "checkpoints/mim_vit.pth"
SUP_CKPT = "checkpoints/sup_vit.safetensors"


def load_encoder(path: str) -> dict:
    """Encoder weights with timm names, whichever of the two files is given."""
    if path.endswith(".safetensors"):
        from safetensors.torch import load_file
        return {k: v for k, v in load_file(path).items() if not k.startswith("head.")}
    ckpt = torch.load(path, map_location="cpu", weights_only=False)  # carries an argparse.Namespace
    return {k[len("encoder."):]: v for k, v in ckpt["model"].items()
            if k.startswith("encoder.") and k != "encoder.mask_token"}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--init", choices=["mim", "sup"], default="mim")
    args = p.parse_args()
    state = load_encoder(MIM_CKPT if args.init == "mim" else SUP_CKPT)
    print(f"loaded {len(state)} encoder tensors from {MIM_CKPT if args.init == 'mim' else SUP_CKPT}")


if __name__ == "__main__":
    main()
