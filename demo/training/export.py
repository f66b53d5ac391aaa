"""Writes the shipped demo checkpoints from the training runs (demo/training/runs/{sup,mim}.pt).

- demo/checkpoints/mim_vit.pth: SimMIM-style wrapped checkpoint {'model', 'epoch', 'args'} written by
  torch.save; encoder under `encoder.` (timm names), `encoder.mask_token`, and the linear decoder as
  SimMIM's 1x1 conv `decoder.0` (its output channels ordered for PixelShuffle: c, i, j).
- demo/checkpoints/sup_vit.safetensors: timm-named classifier weights with `__metadata__`, written
  byte by byte here (8-byte little-endian header length, JSON header, raw little-endian data).
File names avoid the words tiny/small/base: the model is 128 wide with 4 heads, not a standard size.
"""
import argparse
import json
import os
import struct
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import data  # noqa: E402

MODEL_NAME = 'vit_d128_h4_patch4_32'


def write_safetensors(path, tensors, metadata):
    header = {'__metadata__': metadata}
    offset = 0
    blobs = []
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous().to(torch.float32)
        b = t.numpy().astype('<f4').tobytes()
        header[name] = {'dtype': 'F32', 'shape': list(t.shape), 'data_offsets': [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    hb = json.dumps(header, separators=(',', ':')).encode('utf-8')
    hb += b' ' * ((8 - len(hb) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(hb)))
        f.write(hb)
        for b in blobs:
            f.write(b)


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--runs', default=os.path.join(HERE, 'runs'))
    p.add_argument('--out', default=os.path.join(HERE, '..', 'checkpoints'))
    a = p.parse_args()
    os.makedirs(a.out, exist_ok=True)

    # --- MIM: SimMIM layout
    run = torch.load(os.path.join(a.runs, 'mim.pt'))
    targs = run['args']
    sd = run['state']
    p_ = targs['patch_size']
    out = {}
    for k, v in sd.items():
        if k.startswith('encoder.'):
            out[k] = v.clone()
        elif k == 'mask_token':
            out['encoder.mask_token'] = v.clone()
    w, b = sd['decoder_pred.weight'], sd['decoder_pred.bias']  # rows ordered (i, j, c)
    d = w.shape[1]
    w_cij = w.view(p_, p_, 3, d).permute(2, 0, 1, 3).reshape(3 * p_ * p_, d)
    b_cij = b.view(p_, p_, 3).permute(2, 0, 1).reshape(-1)
    out['decoder.0.weight'] = w_cij.reshape(3 * p_ * p_, d, 1, 1).clone()
    out['decoder.0.bias'] = b_cij.clone()
    ns = argparse.Namespace(**{k: v for k, v in targs.items() if k not in ('out', 'log')})
    ns.model = 'simmim_' + MODEL_NAME
    ns.input_size = targs['img_size']
    ns.mean = list(data.IMAGENET_MEAN)
    ns.std = list(data.IMAGENET_STD)
    ns.data = 'skimage-photo-crops-14 (demo/DATA.md)'
    mim_path = os.path.join(a.out, 'mim_vit.pth')
    torch.save({'model': out, 'epoch': run['epoch'], 'args': ns}, mim_path)

    # --- supervised: safetensors
    run = torch.load(os.path.join(a.runs, 'sup.pt'))
    targs = run['args']
    meta = {
        'format': 'pt',
        'model': MODEL_NAME,
        'num_heads': str(targs['num_heads']),
        'embed_dim': str(targs['embed_dim']),
        'depth': str(targs['depth']),
        'patch_size': str(targs['patch_size']),
        'img_size': str(targs['img_size']),
        'mean': json.dumps(list(data.IMAGENET_MEAN)),
        'std': json.dumps(list(data.IMAGENET_STD)),
        'num_classes': str(len(data.CLASS_NAMES)),
        'classes': json.dumps(data.CLASS_NAMES),
        'training': 'supervised cross-entropy, %d steps x batch %d (demo/training/train.py)' % (targs['steps'], targs['batch_size']),
    }
    sup_path = os.path.join(a.out, 'sup_vit.safetensors')
    write_safetensors(sup_path, run['state'], meta)

    # Both files must reproduce the trained networks: reload and compare forward passes.
    from vit import TinyViT
    x = data.normalise(data.sample_crops(data.load_photos(), 2, True, 7)[0])
    ncls = run['state']['head.weight'].shape[0]

    def build(num_classes):
        return TinyViT(targs['img_size'], targs['patch_size'], 3, targs['embed_dim'], targs['depth'],
                       targs['num_heads'], targs['mlp_ratio'], num_classes, targs['ln_eps'])

    m, ref = build(ncls), build(ncls)
    m.load_state_dict(read_safetensors(sup_path)[0])
    ref.load_state_dict(run['state'])
    assert torch.equal(m(x), ref(x))
    # MIM: the shipped encoder + conv decoder + PixelShuffle must reproduce the trained model's prediction.
    mim_run = torch.load(os.path.join(a.runs, 'mim.pt'))
    ck = torch.load(mim_path)
    enc, enc_ref = build(0), build(0)
    enc.load_state_dict({k[len('encoder.'):]: v for k, v in ck['model'].items()
                         if k.startswith('encoder.') and k != 'encoder.mask_token'})
    enc_ref.load_state_dict({k[len('encoder.'):]: v for k, v in mim_run['state'].items() if k.startswith('encoder.')})
    z = enc.forward_features(x)[:, 1:]
    assert torch.equal(z, enc_ref.forward_features(x)[:, 1:])
    g = targs['img_size'] // p_
    conv = torch.nn.functional.conv2d(z.transpose(1, 2).reshape(-1, d, g, g), ck['model']['decoder.0.weight'],
                                      ck['model']['decoder.0.bias'])
    img = torch.nn.functional.pixel_shuffle(conv, p_)  # [B,3,32,32]
    lin = z @ mim_run['state']['decoder_pred.weight'].T + mim_run['state']['decoder_pred.bias']  # [B,N,(i,j,c)]
    lin_img = lin.view(-1, g, g, p_, p_, 3).permute(0, 5, 1, 3, 2, 4).reshape(-1, 3, g * p_, g * p_)
    assert torch.allclose(img, lin_img, atol=1e-5), (img - lin_img).abs().max()
    for path in (mim_path, sup_path):
        print(f'{path}: {os.path.getsize(path) / 1e6:.2f} MB')


def read_safetensors(path):
    with open(path, 'rb') as f:
        n = struct.unpack('<Q', f.read(8))[0]
        header = json.loads(f.read(n))
        blob = f.read()
    meta = header.pop('__metadata__', {})
    out = {}
    for name, info in header.items():
        s, e = info['data_offsets']
        out[name] = torch.frombuffer(bytearray(blob[s:e]), dtype=torch.float32).reshape(info['shape'])
    return out, meta


if __name__ == '__main__':
    main()
