"""The 14 AutoAugment image ops, batched over uint8 (N, C, H, W) tensors with the semantics of PIL's ops.

Every op takes the images, a per-image magnitude (N,) and a per-image sign (N,) of ±1 (used by the ops
whose direction the policy draws at random) and returns uint8 images of the same shape. C is 1 or 3.
"""
from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

FILL = 128  # PIL's fillcolor (128, 128, 128) of the reference policy, for pixels mapped from outside
Op = Callable[[Tensor, Tensor, Tensor], Tensor]


def _affine(images: Tensor, matrix: Tensor, mode: str) -> Tensor:
    """PIL's Image.transform(AFFINE) with fill 128, batched: `matrix` (N, 2, 3) maps an output point to its input
    point, x_in = a·x + b·y + c at pixel centres (x + 0.5), in float64 as PIL does. Nearest takes the pixel
    under the point; bicubic is PIL's (a = -1, taps clamped at the border, truncated), which grid_sample's
    bicubic (a = -0.75) is not. Points outside [0, W) × [0, H) get the fill."""
    n, c, h, w = images.shape
    m = matrix.to(torch.float64)
    xs = (torch.arange(w, dtype=torch.float64, device=images.device) + 0.5)[None, None, :]  # (1, 1, W)
    ys = (torch.arange(h, dtype=torch.float64, device=images.device) + 0.5)[None, :, None]  # (1, H, 1)
    coef = [m[:, r, k].view(n, 1, 1) for r in range(2) for k in range(3)]
    x_in = coef[0] * xs + coef[1] * ys + coef[2]  # (N, H, W)
    y_in = coef[3] * xs + coef[4] * ys + coef[5]
    inside = ((x_in >= 0) & (x_in < w) & (y_in >= 0) & (y_in < h))[:, None]  # (N, 1, H, W)
    flat = images.reshape(n, c, h * w)
    if mode == "nearest":
        x = _taps(flat, y_in.floor(), x_in.floor(), h, w).to(torch.float64)
    else:
        x = _bicubic(flat.to(torch.float64), x_in - 0.5, y_in - 0.5, h, w).clamp(0, 255)
    out = torch.where(inside, x, torch.full_like(x, FILL))
    return out.to(torch.uint8)  # truncation, as PIL's bicubic; nearest values are whole already


def _taps(flat: Tensor, rows: Tensor, cols: Tensor, h: int, w: int) -> Tensor:
    """(N, C, H, W) pixels of `flat` (N, C, H·W) at float row/column indices (N, H, W), clamped to the image."""
    n, c, _ = flat.shape
    index = rows.clamp(0, h - 1).long() * w + cols.clamp(0, w - 1).long()  # (N, H, W)
    return flat.gather(2, index.view(n, 1, -1).expand(n, c, h * w)).view(n, c, h, w)


def _cubic(v1: Tensor, v2: Tensor, v3: Tensor, v4: Tensor, d: Tensor) -> Tensor:
    """PIL's BICUBIC macro: the a = -1 cubic through four taps at fraction d, in its Horner order."""
    p2 = -v1 + v3
    p3 = 2 * (v1 - v2) + v3 - v4
    p4 = -v1 + v2 - v3 + v4
    return v2 + d * (p2 + d * (p3 + d * p4))


def _bicubic(flat: Tensor, x: Tensor, y: Tensor, h: int, w: int) -> Tensor:
    """PIL's bicubic_filter8 at index coordinates (x, y) (N, H, W): four rows of four taps, rows first."""
    n, c, _ = flat.shape
    x0, y0 = x.floor(), y.floor()
    dx, dy = (x - x0)[:, None], (y - y0)[:, None]  # (N, 1, H, W)
    offsets = torch.arange(-1, 3, device=flat.device)
    rows = (y0.long()[:, None] + offsets.view(1, 4, 1, 1)).clamp(0, h - 1) * w  # (N, 4, H, W)
    cols = (x0.long()[:, None] + offsets.view(1, 4, 1, 1)).clamp(0, w - 1)
    index = (rows[:, :, None] + cols[:, None, :]).view(n, 1, -1)  # (N, 1, 16·H·W), row j, column i
    taps = flat.gather(2, index.expand(n, c, -1)).view(n, c, 4, 4, h, w)  # one gather for all 16 taps
    row = [_cubic(taps[:, :, j, 0], taps[:, :, j, 1], taps[:, :, j, 2], taps[:, :, j, 3], dx) for j in range(4)]
    return _cubic(*row, dy)


def _matrix(images: Tensor, a: Tensor, b: Tensor, c: Tensor, d: Tensor, e: Tensor, f: Tensor) -> Tensor:
    return torch.stack([torch.stack([a, b, c], 1), torch.stack([d, e, f], 1)], 1).to(images.device)  # (N, 2, 3)


def shear_x(images: Tensor, magnitude: Tensor, sign: Tensor) -> Tensor:
    """PIL transform (1, m·s, 0, 0, 1, 0), bicubic: rows shift by m·s·y (about the top edge)."""
    one, zero = torch.ones_like(magnitude), torch.zeros_like(magnitude)
    return _affine(images, _matrix(images, one, magnitude * sign, zero, zero, one, zero), "bicubic")


def shear_y(images: Tensor, magnitude: Tensor, sign: Tensor) -> Tensor:
    one, zero = torch.ones_like(magnitude), torch.zeros_like(magnitude)
    return _affine(images, _matrix(images, one, zero, zero, magnitude * sign, one, zero), "bicubic")


def translate_x(images: Tensor, magnitude: Tensor, sign: Tensor) -> Tensor:
    """PIL transform (1, 0, m·W·s, 0, 1, 0), nearest: the content moves by m·W pixels."""
    one, zero = torch.ones_like(magnitude), torch.zeros_like(magnitude)
    shift = magnitude * images.shape[3] * sign
    return _affine(images, _matrix(images, one, zero, shift, zero, one, zero), "nearest")


def translate_y(images: Tensor, magnitude: Tensor, sign: Tensor) -> Tensor:
    one, zero = torch.ones_like(magnitude), torch.zeros_like(magnitude)
    shift = magnitude * images.shape[2] * sign
    return _affine(images, _matrix(images, one, zero, zero, zero, one, shift), "nearest")


def rotate(images: Tensor, magnitude: Tensor, sign: Tensor) -> Tensor:
    """PIL Image.rotate(m) about the centre, nearest, counter-clockwise; the reference draws no sign here."""
    del sign
    h, w = images.shape[2], images.shape[3]
    t = magnitude.to(torch.float64) * (math.pi / 180)
    cos, sin = torch.cos(t), torch.sin(t)
    cx, cy = w / 2.0, h / 2.0
    matrix = _matrix(images, cos, -sin, cx - cos * cx + sin * cy, sin, cos, cy - sin * cx - cos * cy)
    return _affine(images, matrix, "nearest")


def _gray(images: Tensor) -> Tensor:
    """PIL's convert("L"): ITU-R 601-2 luma in 16-bit fixed point, (N, 1, H, W) uint8."""
    if images.shape[1] == 1:
        return images
    x = images.to(torch.int32)
    luma = (x[:, 0] * 19595 + x[:, 1] * 38470 + x[:, 2] * 7471 + 0x8000) >> 16  # (N, H, W)
    return luma[:, None].to(torch.uint8)


def _blend(degenerate: Tensor, images: Tensor, factor: Tensor) -> Tensor:
    """PIL's Image.blend(degenerate, image, factor) as ImageEnhance uses it: float32, then truncation."""
    d = degenerate.to(torch.float32)
    f = factor.to(device=images.device, dtype=torch.float32).view(-1, 1, 1, 1)
    out = d + f * (images.to(torch.float32) - d)
    return out.clamp(0, 255).floor().to(torch.uint8)


def color(images: Tensor, magnitude: Tensor, sign: Tensor) -> Tensor:
    """ImageEnhance.Color(1 + m·s): blend with the grey image."""
    return _blend(_gray(images), images, 1 + magnitude * sign)


def contrast(images: Tensor, magnitude: Tensor, sign: Tensor) -> Tensor:
    """ImageEnhance.Contrast(1 + m·s): blend with the image's mean grey level, rounded."""
    mean = _gray(images).to(torch.float64).mean(dim=(1, 2, 3))  # (N,)
    degenerate = torch.floor(mean + 0.5).view(-1, 1, 1, 1)
    return _blend(degenerate, images, 1 + magnitude * sign)


def brightness(images: Tensor, magnitude: Tensor, sign: Tensor) -> Tensor:
    """ImageEnhance.Brightness(1 + m·s): blend with black."""
    return _blend(torch.zeros_like(images), images, 1 + magnitude * sign)


def sharpness(images: Tensor, magnitude: Tensor, sign: Tensor) -> Tensor:
    """ImageEnhance.Sharpness(1 + m·s): blend with PIL's SMOOTH filter (3×3, centre 5, sum 13; the
    one-pixel border is left as it is)."""
    n, c, h, w = images.shape
    kernel = torch.ones((c, 1, 3, 3), dtype=torch.float32, device=images.device)
    kernel[:, :, 1, 1] = 5
    kernel /= 13
    smooth = F.conv2d(images.to(torch.float32), kernel, groups=c)  # (N, C, H-2, W-2)
    degenerate = images.clone()
    degenerate[:, :, 1:-1, 1:-1] = smooth.round().clamp(0, 255).to(torch.uint8)
    return _blend(degenerate, images, 1 + magnitude * sign)


def posterize(images: Tensor, magnitude: Tensor, sign: Tensor) -> Tensor:
    """ImageOps.posterize(bits = m): keeps the top `bits` bits of every value."""
    del sign
    shift = (8 - magnitude.to(torch.int64)).to(images.device)  # (N,)
    mask = ((255 << shift) & 255).to(torch.uint8).view(-1, 1, 1, 1)
    return images & mask


def solarize(images: Tensor, magnitude: Tensor, sign: Tensor) -> Tensor:
    """ImageOps.solarize(threshold = m): values ≥ threshold become 255 - value."""
    del sign
    threshold = magnitude.to(device=images.device, dtype=torch.float64).view(-1, 1, 1, 1)
    return torch.where(images.to(torch.float64) < threshold, images, 255 - images)


def invert(images: Tensor, magnitude: Tensor, sign: Tensor) -> Tensor:
    del magnitude, sign
    return 255 - images


def auto_contrast(images: Tensor, magnitude: Tensor, sign: Tensor) -> Tensor:
    """ImageOps.autocontrast (cutoff 0): per image and channel, stretch [lo, hi] to [0, 255] with PIL's
    float64 scale and offset and int() truncation; a flat channel is left as it is."""
    del magnitude, sign
    x = images.to(torch.float64)
    lo = x.amin(dim=(2, 3), keepdim=True)  # (N, C, 1, 1)
    hi = x.amax(dim=(2, 3), keepdim=True)
    # a true division, as PIL's 255.0 / (hi - lo): `255.0 / tensor` is reciprocal-then-multiply in torch
    scale = torch.full_like(hi, 255.0) / (hi - lo).clamp(min=1)
    offset = -lo * scale
    stretched = (x * scale + offset).floor().clamp(0, 255)  # values ≥ lo, so floor is int()'s truncation
    return torch.where(hi > lo, stretched, x).to(torch.uint8)


def equalize(images: Tensor, magnitude: Tensor, sign: Tensor) -> Tensor:
    """ImageOps.equalize: per image and channel, PIL's lookup table from the cumulative histogram,
    step = (pixels - count of the highest present value) // 255; step 0 leaves the channel as it is."""
    del magnitude, sign
    n, c, h, w = images.shape
    flat = images.reshape(n * c, h * w).to(torch.int64)  # (NC, HW)
    hist = torch.zeros((n * c, 256), dtype=torch.int64, device=images.device)
    hist.scatter_add_(1, flat, torch.ones_like(flat))  # (NC, 256)
    last = hist.gather(1, flat.amax(dim=1, keepdim=True))  # (NC, 1) count of the highest present value
    step = (h * w - last) // 255
    before = hist.cumsum(dim=1) - hist  # (NC, 256) pixels below each value
    lut = ((step // 2 + before) // step.clamp(min=1)).clamp(0, 255)
    lut = torch.where(step > 0, lut, torch.arange(256, device=images.device)[None, :])
    return lut.gather(1, flat).to(torch.uint8).reshape(n, c, h, w)


OPS: dict[str, Op] = {
    "shear_x": shear_x,
    "shear_y": shear_y,
    "translate_x": translate_x,
    "translate_y": translate_y,
    "rotate": rotate,
    "color": color,
    "posterize": posterize,
    "solarize": solarize,
    "contrast": contrast,
    "sharpness": sharpness,
    "brightness": brightness,
    "auto_contrast": auto_contrast,
    "equalize": equalize,
    "invert": invert,
}
