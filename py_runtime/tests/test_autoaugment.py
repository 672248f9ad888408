"""Tests for the batched AutoAugment ops and policy against per-image PIL references (the semantics of the
common CIFAR10Policy implementation), determinism, range, probability 0 and the place in augment_batch."""
import numpy as np
import pytest
import torch
from PIL import Image, ImageEnhance, ImageOps

from mgdarts_runtime.augment import AugmentConfig, augment_batch
from mgdarts_runtime.autoaugment import (
    CIFAR10_POLICY, OP_NAMES, apply_decisions, auto_augment, draw_decisions, magnitude,
)
from mgdarts_runtime.autoaugment_ops import OPS



def _fill(im: Image.Image) -> int | tuple[int, ...]:
    return 128 if im.mode == "L" else (128, 128, 128)  # the reference's fillcolor, in the image's mode


def _affine(img: Image.Image, data: tuple, resample: int) -> Image.Image:
    return img.transform(img.size, Image.AFFINE, data, resample, fillcolor=_fill(img))


def _rotate_with_fill(img: Image.Image, degrees: float) -> Image.Image:
    rot = img.convert("RGBA").rotate(degrees)
    return Image.composite(rot, Image.new("RGBA", rot.size, (128,) * 4), rot).convert(img.mode)


# The reference's per-image ops, with the sign s that it draws by random.choice([-1, 1]) passed in.
PIL_OPS = {
    "shear_x": lambda im, m, s: _affine(im, (1, m * s, 0, 0, 1, 0), Image.BICUBIC),
    "shear_y": lambda im, m, s: _affine(im, (1, 0, 0, m * s, 1, 0), Image.BICUBIC),
    "translate_x": lambda im, m, s: _affine(im, (1, 0, m * im.size[0] * s, 0, 1, 0), Image.NEAREST),
    "translate_y": lambda im, m, s: _affine(im, (1, 0, 0, 0, 1, m * im.size[1] * s), Image.NEAREST),
    "rotate": lambda im, m, s: _rotate_with_fill(im, m),
    "color": lambda im, m, s: ImageEnhance.Color(im).enhance(1 + m * s),
    "posterize": lambda im, m, s: ImageOps.posterize(im, int(m)),
    "solarize": lambda im, m, s: ImageOps.solarize(im, m),
    "contrast": lambda im, m, s: ImageEnhance.Contrast(im).enhance(1 + m * s),
    "sharpness": lambda im, m, s: ImageEnhance.Sharpness(im).enhance(1 + m * s),
    "brightness": lambda im, m, s: ImageEnhance.Brightness(im).enhance(1 + m * s),
    "auto_contrast": lambda im, m, s: ImageOps.autocontrast(im),
    "equalize": lambda im, m, s: ImageOps.equalize(im),
    "invert": lambda im, m, s: ImageOps.invert(im),
}
EXACT_OPS = [op for op in OP_NAMES if op != "rotate"]  # shear too: PIL's bicubic is reimplemented


def make_images(n: int, channels: int = 3, seed: int = 0) -> torch.Tensor:
    """Smooth images, each channel stretched over its own [lo, hi] so that autocontrast and equalize act."""
    g = torch.Generator().manual_seed(seed)
    base = torch.nn.functional.avg_pool2d(torch.rand((n, channels, 32, 32), generator=g), 3, 1, 1)
    lo, hi = base.amin((2, 3), keepdim=True), base.amax((2, 3), keepdim=True)
    base = (base - lo) / (hi - lo)
    lo = torch.randint(0, 100, (n, channels, 1, 1), generator=g)
    hi = torch.randint(150, 256, (n, channels, 1, 1), generator=g)
    return (lo + base * (hi - lo)).round().to(torch.uint8)


def pil_apply(images: torch.Tensor, op: str, mag: float, sign: float) -> torch.Tensor:
    outs = []
    for img in images:
        arr = img.permute(1, 2, 0).numpy()
        pil = Image.fromarray(arr[:, :, 0] if arr.shape[2] == 1 else arr)
        out = np.array(PIL_OPS[op](pil, mag, sign))
        outs.append(torch.from_numpy(out.reshape(arr.shape)).permute(2, 0, 1))
    return torch.stack(outs)


def run_op(images: torch.Tensor, op: str, mag: float, sign: float, device: torch.device) -> torch.Tensor:
    n = images.shape[0]
    full = lambda v: torch.full((n,), v, dtype=torch.float64, device=device)  # noqa: E731
    return OPS[op](images.to(device), full(mag), full(sign)).cpu()


@pytest.mark.parametrize("channels", [3, 1])
@pytest.mark.parametrize("op", EXACT_OPS)
def test_op_matches_pil_exactly(device: torch.device, op: str, channels: int) -> None:
    images = make_images(6, channels)
    for level in range(10):
        for sign in (-1.0, 1.0):
            m = magnitude(op, level)
            out = run_op(images, op, m, sign, device)
            assert out.dtype == torch.uint8
            ref = pil_apply(images, op, m, sign)
            torch.testing.assert_close(out, ref, atol=0, rtol=0, msg=f"{op} level {level} sign {sign}")


@pytest.mark.parametrize("level", range(1, 10))
def test_rotate_matches_pil_but_for_boundary_pixels(device: torch.device, level: int) -> None:
    # PIL's nearest affine runs in fixed point, so a pixel whose source point lies on a pixel boundary may
    # take the neighbour; measured: one position per image (row 0, column 23) at level 6, none elsewhere
    images = make_images(8)
    m = magnitude("rotate", level)
    differ = (run_op(images, "rotate", m, 1.0, device) != pil_apply(images, "rotate", m, 1.0)).any(dim=1)  # (N, H, W)
    assert differ.sum(dim=(1, 2)).max().item() <= 1


def test_rotate_level_0_is_identity(device: torch.device) -> None:
    images = make_images(4)
    torch.testing.assert_close(run_op(images, "rotate", 0.0, 1.0, device), images, atol=0, rtol=0)


@pytest.mark.parametrize("op", ["shear_x", "shear_y"])
@pytest.mark.parametrize("sign", [-1.0, 1.0])
def test_shear_fills_exactly_where_pil_does(device: torch.device, op: str, sign: float) -> None:
    # a flat image: bicubic of a constant is the constant, so only the geometry of the fill shows
    flat = torch.full((1, 3, 32, 32), 200, dtype=torch.uint8)
    for level in (1, 5, 9):
        m = magnitude(op, level)
        out, ref = run_op(flat, op, m, sign, device), pil_apply(flat, op, m, sign)
        assert (ref == 128).any() and set(out.unique().tolist()) == {128, 200}
        torch.testing.assert_close(out, ref, atol=0, rtol=0)


def test_magnitude_scale_is_the_references() -> None:
    assert [magnitude("posterize", lvl) for lvl in range(10)] == np.round(np.linspace(8, 4, 10)).tolist()
    for op, stop in (("rotate", 30), ("translate_x", 150 / 331), ("solarize", 0), ("color", 0.9)):
        start = 256 if op == "solarize" else 0
        ours = [magnitude(op, lvl) for lvl in range(10)]
        np.testing.assert_allclose(ours, np.linspace(start, stop, 10), rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="level"):
        magnitude("rotate", 10)


def test_policy_is_25_sub_policies_of_known_ops() -> None:
    assert len(CIFAR10_POLICY) == 25
    assert {op for sub in CIFAR10_POLICY for op, _, _ in sub} <= set(OP_NAMES)


def test_auto_augment_deterministic_per_seed_and_keeps_uint8(device: torch.device) -> None:
    images = make_images(64).to(device)
    a = auto_augment(images, torch.Generator(device=device).manual_seed(3))
    b = auto_augment(images, torch.Generator(device=device).manual_seed(3))
    c = auto_augment(images, torch.Generator(device=device).manual_seed(4))
    assert a.dtype == torch.uint8 and a.shape == images.shape
    torch.testing.assert_close(a, b, atol=0, rtol=0)
    assert not torch.equal(a, c)
    assert not torch.equal(a, images)


def test_probability_zero_leaves_images_unchanged(device: torch.device) -> None:
    never = tuple(((op, 0.0, 9), ("invert", 0.0, 0)) for op in OP_NAMES)
    images = make_images(32).to(device)
    out = auto_augment(images, torch.Generator(device=device).manual_seed(0), never)
    torch.testing.assert_close(out, images, atol=0, rtol=0)


def test_batched_policy_equals_per_image_pil_reference(device: torch.device) -> None:
    # same decisions, image by image through PIL; images that drew rotate (PIL's fixed-point nearest) are
    # skipped, rotate has its own test
    images = make_images(96)
    op, mag, sign = draw_decisions(96, torch.Generator(device=device).manual_seed(11), device)
    out = apply_decisions(images.to(device), op, mag, sign).cpu()
    op, mag, sign = op.cpu(), mag.cpu(), sign.cpu()
    compared = 0
    for i in range(96):
        names = [OP_NAMES[k] for k in op[i].tolist() if k >= 0]
        if "rotate" in names:
            continue
        ref = images[i : i + 1]
        for step, k in enumerate(op[i].tolist()):
            if k >= 0:
                ref = pil_apply(ref, OP_NAMES[k], mag[i, step].item(), sign[i, step].item())
        torch.testing.assert_close(out[i : i + 1], ref, atol=0, rtol=0, msg=f"image {i}: {names}")
        compared += 1
    assert compared > 48


def test_augment_batch_runs_auto_augment_after_crop_and_flip(device: torch.device) -> None:
    images = make_images(16).to(device)
    identity = ((0.0,) * 3, (1 / 255,) * 3)  # normalisation that returns the uint8 values as floats
    cfg = AugmentConfig(auto_augment=True)
    out = augment_batch(images, cfg, *identity, torch.Generator(device=device).manual_seed(5))
    expected = auto_augment(images, torch.Generator(device=device).manual_seed(5))
    torch.testing.assert_close(out.round().to(torch.uint8), expected, atol=0, rtol=0)
    with pytest.raises(ValueError, match="auto_augment"):
        AugmentConfig(auto_augment=1)  # type: ignore[arg-type]
