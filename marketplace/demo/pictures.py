"""Flat illustrations for the demo catalogue, drawn with Pillow: no files, no network.

A product picture is a pure function of ``(category_slug, variant)``: the background palette
comes from the top-level category, the motif (a fish, a honey jar, a basket …) from the leaf,
and ``variant`` moves, mirrors, recolours and decorates it. With six variants per category
the whole catalogue shares a couple of hundred pictures, cached here once drawn. Pictures
carry no text: Pillow's built-in font has no Vietnamese glyphs.

``rng`` is taken for symmetry with the other demo builders. ``product_picture`` leaves it
untouched, so turning pictures on or off never shifts the rest of the seeded data; the shop
logo and banner each take exactly one draw from it (the colour, the scene).
"""

from __future__ import annotations

import io
import math
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

from marketplace.catalog.default_categories import iter_categories
from marketplace.core.text import fold

PICTURE_SIZE = 800
LOGO_SIZE = 400
BANNER_SIZE = (1200, 400)
JPEG_QUALITY = 85
# Supersampling factor: shapes are drawn this much larger, then reduced (anti-aliasing).
SUPERSAMPLE = 2
BANNER_SCENES = 12

RGB = tuple[int, int, int]
Point = tuple[float, float]


def _hex(code: str) -> RGB:
    code = code.lstrip("#")
    return (int(code[0:2], 16), int(code[2:4], 16), int(code[4:6], 16))


def _mix(a: RGB, b: RGB, t: float) -> RGB:
    return (
        round(a[0] + (b[0] - a[0]) * t),
        round(a[1] + (b[1] - a[1]) * t),
        round(a[2] + (b[2] - a[2]) * t),
    )


WHITE: RGB = (255, 255, 255)
BLACK: RGB = (0, 0, 0)


@dataclass(frozen=True)
class Palette:
    top: RGB
    bottom: RGB
    disc: RGB
    main: RGB
    accent: RGB
    dark: RGB
    light: RGB


def _palette(*codes: str) -> Palette:
    return Palette(*(_hex(code) for code in codes))


PALETTES: dict[str, Palette] = {
    "hai-san-tuoi-dong-lanh": _palette(
        "#0f4c75", "#3fa7d6", "#d6efff", "#ff7b54", "#ffb26b", "#1b262c", "#ffffff"
    ),
    "kho-dac-san-che-bien": _palette(
        "#f6d186", "#e0913a", "#fff3d6", "#c0722c", "#e8a65d", "#5c3d1e", "#fff8ea"
    ),
    "nong-san": _palette(
        "#a7c957", "#4d7c3a", "#f2efd9", "#f4d35e", "#bc4749", "#283618", "#fefae0"
    ),
    "mat-ong-san-pham-rung": _palette(
        "#ffd166", "#f08c00", "#fff3c4", "#e8a317", "#9e2a2b", "#4a2511", "#fffaf0"
    ),
    "san-pham-ocop": _palette(
        "#9d0208", "#e85d04", "#ffe8d6", "#ffba08", "#faa307", "#370617", "#ffffff"
    ),
    "thu-cong-my-nghe": _palette(
        "#e9d8a6", "#c8803a", "#fdf6e3", "#c49a5a", "#2a9d8f", "#6b4423", "#fffdf5"
    ),
    "do-uong": _palette(
        "#2a9d8f", "#1d4e5f", "#e6f4f1", "#e76f51", "#f4a261", "#10263a", "#ffffff"
    ),
    "qua-tang-hop-qua": _palette(
        "#ef476f", "#9d1a7e", "#ffe5ec", "#ffd166", "#06d6a0", "#3a0ca3", "#ffffff"
    ),
    "banh-keo-an-vat": _palette(
        "#ffc8dd", "#b8a1d9", "#fff0f6", "#f9c74f", "#90be6d", "#6d597a", "#ffffff"
    ),
    "gia-vi-nuoc-cham": _palette(
        "#f4a261", "#d1495b", "#fff1e6", "#c1121f", "#2a9d8f", "#432818", "#ffffff"
    ),
}
DEFAULT_PALETTE = _palette(
    "#8ecae6", "#219ebc", "#eef8fc", "#ffb703", "#fb8500", "#023047", "#ffffff"
)


# --- A pen that draws local shapes placed, scaled, rotated and mirrored -------------------


class _Pen:
    def __init__(self, image: Image.Image, scale: int) -> None:
        self.draw = ImageDraw.Draw(image)
        self.scale = scale
        self.place(0, 0)

    def place(
        self, x: float, y: float, size: float = 1.0, angle: float = 0.0, flip: bool = False
    ) -> _Pen:
        """Put the local origin at ``(x, y)`` (picture pixels), ``size`` units per pixel."""
        self.ox, self.oy, self.k, self.flip = x, y, size, flip
        self.cos, self.sin = math.cos(math.radians(angle)), math.sin(math.radians(angle))
        return self

    def point(self, x: float, y: float) -> Point:
        if self.flip:
            x = -x
        xr = x * self.cos - y * self.sin
        yr = x * self.sin + y * self.cos
        return ((self.ox + xr * self.k) * self.scale, (self.oy + yr * self.k) * self.scale)

    def width(self, width: float) -> int:
        return max(1, round(width * self.k * self.scale))

    def poly(self, points: Iterable[Point], fill: RGB) -> None:
        self.draw.polygon([self.point(x, y) for x, y in points], fill=fill)

    def line(self, points: Iterable[Point], fill: RGB, width: float) -> None:
        self.draw.line(
            [self.point(x, y) for x, y in points], fill=fill, width=self.width(width), joint="curve"
        )

    def ellipse(self, x: float, y: float, rx: float, ry: float, fill: RGB, steps: int = 40) -> None:
        self.poly(_ellipse_points(x, y, rx, ry, steps), fill)

    def circle(self, x: float, y: float, r: float, fill: RGB) -> None:
        # Circles survive any rotation, so Pillow's own ellipse will do (and is faster).
        cx, cy = self.point(x, y)
        radius = r * self.k * self.scale
        self.draw.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill=fill)

    def ring(self, x: float, y: float, rx: float, ry: float, fill: RGB, width: float) -> None:
        points = _ellipse_points(x, y, rx, ry, 48)
        self.line([*points, points[0], points[1]], fill, width)

    def rect(
        self, x0: float, y0: float, x1: float, y1: float, fill: RGB, radius: float = 0
    ) -> None:
        self.poly(_rounded_rect_points(x0, y0, x1, y1, radius), fill)

    def star(
        self, x: float, y: float, outer: float, inner: float, fill: RGB, tips: int = 5
    ) -> None:
        points = []
        for i in range(tips * 2):
            r = outer if i % 2 == 0 else inner
            a = math.pi * i / tips - math.pi / 2
            points.append((x + r * math.cos(a), y + r * math.sin(a)))
        self.poly(points, fill)


def _ellipse_points(x: float, y: float, rx: float, ry: float, steps: int) -> list[Point]:
    return [
        (x + rx * math.cos(2 * math.pi * i / steps), y + ry * math.sin(2 * math.pi * i / steps))
        for i in range(steps)
    ]


def _arc_points(
    x: float, y: float, rx: float, ry: float, start: float, end: float, steps: int = 16
) -> list[Point]:
    return [
        (
            x + rx * math.cos(math.radians(start + (end - start) * i / steps)),
            y + ry * math.sin(math.radians(start + (end - start) * i / steps)),
        )
        for i in range(steps + 1)
    ]


def _rounded_rect_points(x0: float, y0: float, x1: float, y1: float, r: float) -> list[Point]:
    r = min(r, (x1 - x0) / 2, (y1 - y0) / 2)
    if r <= 0:
        return [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
    return [
        *_arc_points(x1 - r, y0 + r, r, r, -90, 0, 6),
        *_arc_points(x1 - r, y1 - r, r, r, 0, 90, 6),
        *_arc_points(x0 + r, y1 - r, r, r, 90, 180, 6),
        *_arc_points(x0 + r, y0 + r, r, r, 180, 270, 6),
    ]


def _turned(points: Iterable[Point], angle: float, x: float = 0, y: float = 0) -> list[Point]:
    """Rotate ``points`` by ``angle`` degrees about the origin, then move them to ``(x, y)``."""
    c, s = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    return [(x + px * c - py * s, y + px * s + py * c) for px, py in points]


def _wave(x0: float, x1: float, y: float, amplitude: float, waves: float) -> list[Point]:
    steps = 24
    return [
        (
            x0 + (x1 - x0) * i / steps,
            y + amplitude * math.sin(2 * math.pi * waves * i / steps),
        )
        for i in range(steps + 1)
    ]


# --- Motifs: each draws around the local origin, about 440 units across ------------------

Motif = Callable[[_Pen, random.Random, Palette], None]


FISH_SILVER = _hex("#7fa7c2")


def _fish(pen: _Pen, rng: random.Random, pal: Palette, body: RGB = FISH_SILVER) -> None:
    belly = _mix(body, WHITE, 0.55)
    fin = _mix(body, pal.dark, 0.25)
    pen.poly([(150, 0), (250, -85), (225, 0), (250, 85)], fin)
    pen.poly([(-50, -65), (30, -120), (90, -60)], fin)
    pen.poly([(0, 60), (40, 100), (70, 55)], fin)
    pen.ellipse(0, 0, 190, 82, body)
    pen.ellipse(-10, 28, 160, 42, belly)
    if rng.random() < 0.5:
        for x in (-20, 30, 80):
            pen.line(_arc_points(x, 0, 25, 60, -70, 70, 8), _mix(body, pal.dark, 0.2), 7)
    pen.line(_arc_points(-150, 0, 70, 70, -40, 40, 10), _mix(body, pal.dark, 0.35), 7)
    pen.circle(-130, -18, 17, WHITE)
    pen.circle(-133, -18, 9, pal.dark)


def _shrimp(pen: _Pen, rng: random.Random, pal: Palette) -> None:
    color = pal.main
    shade = _mix(color, pal.dark, 0.22)
    light = _mix(color, WHITE, 0.3)
    radius, cy = 125.0, -10.0
    start, sweep = 200.0, 230.0  # the body curls from the head (left) round to the tail

    def along(t: float, offset: float) -> Point:
        a = math.radians(start - sweep * t)
        return ((radius + offset) * math.cos(a), cy + (radius + offset) * math.sin(a))

    def thickness(t: float) -> float:
        return 62 - 40 * t

    ts = [i / 30 for i in range(31)]
    for t in (0.15, 0.3, 0.45, 0.6):  # legs, under the curl
        inner = along(t, -thickness(t) * 0.8)
        pen.line([inner, along(t + 0.03, -thickness(t) - 45)], shade, 7)
    for bend in (-1, 1):  # antennae, before the head covers their roots
        head = along(0, 0)
        pen.line(
            [head, (head[0] - 70, head[1] - 90 - 15 * bend), (head[0] + 90, -210 + 12 * bend)],
            shade,
            5,
        )
    pen.poly(
        [along(t, thickness(t)) for t in ts] + [along(t, -thickness(t)) for t in ts[::-1]], color
    )
    pen.poly([along(t, thickness(t) * 0.95) for t in ts] + [along(t, 10) for t in ts[::-1]], light)
    for t in (0.2, 0.33, 0.46, 0.59, 0.72, 0.85):
        pen.line([along(t, -thickness(t)), along(t, thickness(t))], shade, 6)
    fan = [
        along(0.97, thickness(0.97)),
        along(1.13, 45),
        along(1.17, 0),
        along(1.13, -45),
        along(0.97, -thickness(0.97)),
    ]
    pen.poly(fan, shade)
    hx, hy = along(0, 0)
    pen.ellipse(hx + 5, hy - 10, 82, 62, color)
    pen.ellipse(hx + 15, hy + 5, 60, 38, light)
    pen.poly([(hx - 60, hy - 30), (hx - 160, hy - 60), (hx - 55, hy - 8)], shade)
    pen.circle(hx - 30, hy - 30, 12, pal.dark)
    if rng.random() < 0.5:
        pen.circle(hx - 34, hy - 34, 4, WHITE)


def _crab(pen: _Pen, rng: random.Random, pal: Palette) -> None:
    shell = _mix(pal.main, (200, 60, 40), 0.45)
    shade = _mix(shell, pal.dark, 0.25)
    for side in (-1, 1):
        for i in range(3):
            y = 10 + i * 32
            pen.line(
                [(side * 110, y), (side * (210 + i * 10), y - 20 + i * 12), (side * 240, y + 80)],
                shade,
                16,
            )
        pen.line([(side * 100, -30), (side * 165, -95), (side * 175, -130)], shade, 20)
        pen.ellipse(side * 180, -165, 62, 48, shell)
        pen.poly(
            [(side * 175, -200), (side * 215, -240), (side * 235, -190), (side * 200, -180)],
            shell,
        )
        pen.line([(side * 40, -70), (side * 48, -120)], shade, 9)
        pen.circle(side * 48, -125, 14, pal.dark)
    pen.ellipse(0, 20, 165, 108, shell)
    pen.ellipse(0, 0, 120, 62, _mix(shell, WHITE, 0.2))
    for x in (-50, 0, 50):
        pen.circle(x, -10, 9, _mix(shell, WHITE, 0.45))
    if rng.random() < 0.5:
        pen.ellipse(0, 70, 70, 22, _mix(shell, (255, 170, 60), 0.5))


def _squid(pen: _Pen, rng: random.Random, pal: Palette, color: RGB | None = None) -> None:
    body = color or _mix(pal.light, (255, 190, 200), 0.5)
    shade = _mix(body, pal.dark, 0.15)
    for i in range(8):
        x = -60 + i * 17
        tentacle = [(x + 14 * math.sin(k + i) * (k > 0), 40 + k * 30) for k in range(7)]
        pen.line(tentacle, shade, 12 if i in (0, 7) else 10)
    pen.poly([(-95, -120), (-150, -40), (-70, -60)], shade)
    pen.poly([(95, -120), (150, -40), (70, -60)], shade)
    pen.poly([*_arc_points(0, -150, 80, 80, 180, 360, 16), (75, 20), (-75, 20)], body)
    pen.ellipse(0, 35, 80, 40, body)
    for x in (-35, 35):
        pen.circle(x, 30, 15, WHITE)
        pen.circle(x, 32, 8, pal.dark)
    for y in (-150, -100, -50):
        pen.circle(rng.choice((-30, 0, 30)), y, 9, _mix(body, (220, 120, 140), 0.5))


def _clams(pen: _Pen, rng: random.Random, pal: Palette) -> None:
    colors = [_hex("#f5e6cc"), _hex("#d9b99b"), _hex("#b08968")]
    for index, (x, y, s) in enumerate(((-120, 60, 0.9), (110, 80, 0.95), (0, -40, 1.1))):
        shell = colors[(index + rng.randrange(3)) % 3]
        ridge = _mix(shell, pal.dark, 0.3)
        fan = [(x, y + 80 * s), *_arc_points(x, y, 115 * s, 95 * s, 200, 340, 18)]
        pen.poly(fan, shell)
        for a in range(210, 340, 22):
            end = (x + 105 * s * math.cos(math.radians(a)), y + 88 * s * math.sin(math.radians(a)))
            pen.line([(x, y + 75 * s), end], ridge, 5)
        pen.ellipse(x, y + 78 * s, 24 * s, 12 * s, ridge)


def _dried_fish(pen: _Pen, rng: random.Random, pal: Palette) -> None:
    bamboo = _mix(pal.dark, pal.main, 0.4)
    pen.line([(-230, -170), (230, -170)], bamboo, 14)
    for i, x in enumerate((-130, 0, 130)):
        body = _mix(pal.main, pal.accent, 0.3 * i)
        pen.line([(x, -170), (x, -140)], pal.dark, 5)
        pen.poly([(x, 150), (x - 55, 230), (x, 205), (x + 55, 230)], _mix(body, pal.dark, 0.2))
        pen.ellipse(x, 0, 60, 160, body)
        pen.ellipse(x, 0, 30, 130, _mix(body, pal.light, 0.35))
        for y in range(-90, 120, 40):
            pen.line([(x - 35, y), (x + 35, y + 8)], _mix(body, pal.dark, 0.25), 5)
        pen.circle(x, -125, 9, pal.dark)


def _dried_shrimp_bowl(pen: _Pen, rng: random.Random, pal: Palette) -> None:
    pile = _hex("#e4572e")
    for _ in range(26):
        x, y = rng.uniform(-170, 170), rng.uniform(-110, 10)
        a = rng.uniform(0, 360)
        color = _mix(pile, pal.accent, rng.uniform(0, 0.5))
        pts = _arc_points(x, y, 28, 28, a, a + 220, 8)
        pen.line(pts, color, 18)
    pen.poly(
        [(-240, 0), (240, 0), *_arc_points(0, 0, 240, 180, 0, 180, 20)],
        _mix(pal.light, pal.main, 0.25),
    )
    pen.line(_arc_points(0, 0, 240, 180, 10, 170, 20), _mix(pal.main, pal.dark, 0.2), 10)
    pen.rect(-250, -12, 250, 12, _mix(pal.light, pal.dark, 0.1), 12)


def _jar(pen: _Pen, rng: random.Random, pal: Palette, fill: RGB | None = None) -> None:
    content = fill or pal.main
    glass = _mix(content, WHITE, 0.15)
    pen.rect(-130, -110, 130, 200, glass, 50)
    pen.rect(-105, -70, -80, 150, _mix(glass, WHITE, 0.45), 12)
    pen.rect(-95, -150, 95, -100, pal.dark, 14)
    pen.rect(-105, -120, 105, -95, _mix(pal.dark, WHITE, 0.2), 10)
    pen.rect(-130, 10, 130, 110, pal.light, 4)
    pen.star(0, 60, 34, 15, pal.accent)
    if rng.random() < 0.6:
        pen.poly(
            [(40, -100), (70, -100), (62, -40), *_arc_points(55, -40, 9, 12, 0, 180, 6)], content
        )


def _honey(pen: _Pen, rng: random.Random, pal: Palette) -> None:
    comb = _mix(pal.main, pal.light, 0.25)
    edge = _mix(pal.main, pal.dark, 0.3)
    for cx, cy in ((170, 130), (230, 165), (230, 95), (170, 60)):
        pen.poly(_ellipse_points(cx, cy, 42, 42, 6), edge)
        pen.poly(_ellipse_points(cx, cy, 34, 34, 6), comb)
    _jar(pen.place(pen.ox - 40 * pen.k, pen.oy, pen.k, 0, pen.flip), rng, pal, pal.main)


def _pollen(pen: _Pen, rng: random.Random, pal: Palette) -> None:
    _jar(pen, rng, pal, _hex("#f2b134"))
    ox, oy, k = pen.ox, pen.oy, pen.k
    pen.place(ox + 150 * k, oy - 170 * k, k * 0.8)
    _bee(pen, pal)
    pen.place(ox, oy, k)
    for _ in range(14):
        pen.circle(rng.uniform(-220, 220), rng.uniform(150, 230), rng.uniform(6, 12), pal.accent)


def _bee(pen: _Pen, pal: Palette) -> None:
    pen.ellipse(-20, -40, 40, 55, _mix(WHITE, pal.top, 0.2))
    pen.ellipse(25, -40, 40, 55, _mix(WHITE, pal.top, 0.3))
    pen.ellipse(0, 0, 70, 48, _hex("#f6c90e"))
    for x in (-25, 5, 35):
        pen.rect(x - 9, -44, x + 9, 44, _hex("#2b2118"), 6)
    pen.circle(-72, -5, 22, _hex("#2b2118"))


def _dropper_bottle(pen: _Pen, rng: random.Random, pal: Palette) -> None:
    leaf = _hex("#5a8f29")
    for a in (-35, -10, 20):
        blade = _turned(_ellipse_points(0, 0, 40, 120, 20), a + rng.uniform(-5, 5), 150, 20)
        pen.poly(blade, _mix(leaf, pal.dark, 0.1 if a < 0 else 0))
    amber = _hex("#9c5518")
    pen.rect(-100, -40, 100, 210, amber, 36)
    pen.rect(-75, -10, -52, 170, _mix(amber, WHITE, 0.35), 10)
    pen.rect(-40, -90, 40, -40, _mix(amber, BLACK, 0.2), 6)
    pen.rect(-55, -110, 55, -80, pal.dark, 10)
    pen.ellipse(0, -170, 40, 70, _mix(pal.dark, WHITE, 0.15))
    pen.rect(-100, 40, 100, 130, pal.light, 4)
    pen.ellipse(0, 85, 28, 28, leaf)


def _ocop_badge(stars: int) -> Motif:
    def draw(pen: _Pen, rng: random.Random, pal: Palette) -> None:
        pen.circle(0, 0, 215, pal.accent)
        pen.circle(0, 0, 190, pal.light)
        pen.circle(0, 0, 165, _mix(pal.top, pal.bottom, 0.5))
        pen.ring(0, 0, 150, 150, pal.main, 6)
        spread = 32
        for i in range(stars):
            a = math.radians(-90 + (i - (stars - 1) / 2) * spread)
            pen.star(115 * math.cos(a), 115 * math.sin(a) + 120, 30, 13, pal.main)
        pen.star(0, -20, 90, 38, pal.main)
        pen.poly([(-150, 150), (-230, 260), (-110, 230)], pal.accent)
        pen.poly([(150, 150), (230, 260), (110, 230)], pal.accent)

    return draw


def _basket(colour: str, handle: bool = True) -> Motif:
    def draw(pen: _Pen, rng: random.Random, pal: Palette) -> None:
        straw = _hex(colour)
        dark = _mix(straw, pal.dark, 0.35)
        light = _mix(straw, WHITE, 0.25)
        if handle:
            pen.line(_arc_points(0, -60, 160, 170, 180, 360, 20), dark, 22)
        pen.poly([(-220, -60), (220, -60), (170, 200), (-170, 200)], straw)
        for row in range(6):
            y = -40 + row * 40
            inset = 220 - (row * 40 + 20) * 50 / 260
            for col in range(-6, 6):
                x = col * 36 + (18 if row % 2 else 0)
                if -inset < x < inset - 30:
                    pen.rect(x, y, x + 26, y + 24, light if (col + row) % 2 else dark, 6)
        pen.rect(-235, -80, 235, -45, dark, 16)
        if rng.random() < 0.5:
            pen.rect(-60, -80, -20, -45, pal.accent, 6)

    return draw


def _boat(pen: _Pen, rng: random.Random, pal: Palette) -> None:
    wood = _hex("#8d5a2b")
    pen.line(_wave(-260, 260, 150, 10, 3), _mix(pal.top, WHITE, 0.4), 10)
    pen.line([(20, 60), (20, -230)], pal.dark, 10)
    pen.poly([(30, -220), (180, 20), (30, 20)], pal.light)
    pen.poly([(10, -200), (-140, 20), (10, 20)], _mix(pal.light, pal.accent, 0.35))
    pen.poly([(-250, 40), (260, 40), (190, 130), (-190, 130)], wood)
    pen.rect(-250, 40, 260, 62, _mix(wood, pal.accent, 0.4))
    for x in (-120, 0, 120):
        pen.circle(x, 95, 12, _mix(wood, WHITE, 0.3))
    pen.poly([(-250, 40), (-270, 20), (-225, 40)], pal.dark)


def _bottle(pen: _Pen, rng: random.Random, pal: Palette, glass: RGB | None = None) -> None:
    glass = glass or _mix(pal.accent, pal.dark, 0.35)
    pen.rect(-90, -30, 90, 230, glass, 34)
    pen.poly([(-90, 0), (-32, -110), (32, -110), (90, 0)], glass)
    pen.rect(-32, -190, 32, -100, glass, 8)
    pen.rect(-38, -225, 38, -180, pal.main, 8)
    pen.rect(-68, 0, -46, 200, _mix(glass, WHITE, 0.35), 10)
    pen.rect(-90, 60, 90, 160, pal.light, 4)
    pen.rect(-90, 70, 90, 84, pal.accent)
    pen.star(0, 118, 28, 12, _mix(glass, pal.dark, 0.2))


def _teacup(pen: _Pen, rng: random.Random, pal: Palette) -> None:
    cup = pal.light
    pen.ellipse(0, 170, 240, 45, _mix(pal.light, pal.dark, 0.15))
    pen.ring(165, 40, 55, 50, cup, 22)
    pen.poly([(-170, -40), (170, -40), *_arc_points(0, -40, 170, 200, 0, 180, 20)], cup)
    pen.ellipse(0, -40, 170, 30, _mix(pal.main, pal.accent, 0.3))
    for x in (-60, 0, 60):
        pen.line([(x + 12 * math.sin(k), -80 - k * 28) for k in range(6)], pal.light, 10)
    leaf = _hex("#6a994e")
    pen.ellipse(-120, 60, 30, 60, leaf)
    pen.ellipse(-80, 70, 26, 52, _mix(leaf, WHITE, 0.2))


def _glass(pen: _Pen, rng: random.Random, pal: Palette) -> None:
    juice = _hex("#f9c80e") if rng.random() < 0.5 else _mix(pal.main, pal.accent, 0.5)
    pen.line([(40, -250), (20, 100)], pal.accent, 16)
    pen.poly([(-140, -180), (140, -180), (105, 220), (-105, 220)], _mix(pal.light, pal.top, 0.15))
    pen.poly([(-125, -90), (125, -90), (105, 205), (-105, 205)], juice)
    for _ in range(5):
        pen.circle(
            rng.uniform(-80, 80), rng.uniform(-40, 180), rng.uniform(8, 16), _mix(juice, WHITE, 0.5)
        )
    pen.circle(120, -180, 70, _hex("#f9e076"))
    pen.circle(120, -180, 55, _hex("#fdf2b3"))
    for a in range(0, 360, 60):
        rad = math.radians(a)
        pen.line(
            [(120, -180), (120 + 55 * math.cos(rad), -180 + 55 * math.sin(rad))], _hex("#f9e076"), 5
        )


def _gift_box(pen: _Pen, rng: random.Random, pal: Palette) -> None:
    box, ribbon = pal.main, pal.accent
    pen.rect(-190, -60, 190, 210, box, 8)
    pen.rect(-215, -120, 215, -50, _mix(box, pal.dark, 0.12), 10)
    pen.rect(-30, -120, 30, 210, ribbon)
    if rng.random() < 0.5:
        pen.rect(-190, 50, 190, 100, ribbon)
    pen.ellipse(-70, -155, 75, 40, ribbon)
    pen.ellipse(70, -155, 75, 40, ribbon)
    pen.ellipse(-70, -155, 40, 18, _mix(ribbon, pal.dark, 0.3))
    pen.ellipse(70, -155, 40, 18, _mix(ribbon, pal.dark, 0.3))
    pen.circle(0, -150, 30, _mix(ribbon, pal.dark, 0.15))


def _gift_basket(pen: _Pen, rng: random.Random, pal: Palette) -> None:
    ox, oy, k, flip = pen.ox, pen.oy, pen.k, pen.flip
    pen.place(ox - 70 * k, oy - 90 * k, k * 0.45, -12, flip)
    _bottle(pen, rng, pal, _hex("#6b2737"))
    pen.place(ox + 80 * k, oy - 70 * k, k * 0.42, 8, flip)
    _jar(pen, rng, pal, _hex("#e8a317"))
    pen.place(ox, oy + 40 * k, k * 0.95, 0, flip)
    _basket("#c49a5a", handle=False)(pen, rng, pal)
    pen.place(ox, oy, k, 0, flip)
    pen.ellipse(0, 20, 60, 28, pal.accent)


def _landmark(pen: _Pen, rng: random.Random, pal: Palette) -> None:
    # The ship-bow monument at Cape Cà Mau, with its flag.
    stone = _hex("#d8dee9")
    shade = _hex("#9aa5b8")
    pen.line(_wave(-260, 260, 190, 12, 3), _hex("#48cae4"), 12)
    pen.poly([(-230, 160), (230, 160), (150, 80), (-250, 80)], _hex("#6c757d"))
    pen.poly([(-200, 80), (180, 80), (-40, -120)], stone)
    pen.poly([(-40, -120), (180, 80), (60, 80)], shade)
    pen.line([(-40, -120), (-40, -250)], pal.dark, 8)
    pen.poly([(-36, -250), (70, -225), (-36, -200)], _hex("#da251d"))
    pen.star(0, -226, 12, 5, _hex("#ffde00"))


def _banh_tet(pen: _Pen, rng: random.Random, pal: Palette) -> None:
    leaf = _hex("#2f7d32")
    pen.rect(-220, -80, 120, 80, leaf, 70)
    for x in (-150, -60, 30):
        pen.rect(x, -82, x + 14, 82, _hex("#d9c89e"))
    pen.ellipse(150, 60, 95, 95, leaf)
    pen.circle(150, 60, 82, _hex("#f3ead3"))
    pen.circle(150, 60, 45, _hex("#f2c14e"))
    pen.circle(150, 60, 18, _hex("#8c3b2b"))


def _candies(pen: _Pen, rng: random.Random, pal: Palette) -> None:
    colors = [pal.main, pal.accent, _mix(pal.top, pal.dark, 0.2), _hex("#e07a5f")]
    for i in range(7):
        x, y = rng.uniform(-170, 170), rng.uniform(-150, 170)
        a = rng.uniform(-40, 40)
        color = colors[i % len(colors)]
        wrap = _mix(color, WHITE, 0.3)
        pen.poly(_turned([(-55, 0), (-95, -30), (-95, 30)], a, x, y), wrap)
        pen.poly(_turned([(55, 0), (95, -30), (95, 30)], a, x, y), wrap)
        pen.poly(_turned(_ellipse_points(0, 0, 60, 36, 24), a, x, y), color)
        pen.poly(_turned(_ellipse_points(-15, -12, 22, 9, 12), a, x, y), _mix(color, WHITE, 0.5))


def _snack_bag(pen: _Pen, rng: random.Random, pal: Palette) -> None:
    bag = pal.main
    pen.poly([(-160, -190), (160, -190), (180, 210), (-180, 210)], bag)
    pen.rect(-165, -210, 165, -170, _mix(bag, pal.dark, 0.2), 8)
    pen.line([(-150, -150), (150, -150)], _mix(bag, pal.dark, 0.3), 6)
    pen.ellipse(0, 40, 110, 90, pal.light)
    pen.ellipse(0, 40, 80, 62, _hex("#e9b872"))
    for _ in range(6):
        pen.circle(rng.uniform(-55, 55), rng.uniform(0, 80), 9, _hex("#c1440e"))


def _sauce_bottle(pen: _Pen, rng: random.Random, pal: Palette) -> None:
    _bottle(pen, rng, pal, _hex("#8b3a0f"))
    ox, oy, k, flip = pen.ox, pen.oy, pen.k, pen.flip
    pen.place(ox + 170 * k * (-1 if flip else 1), oy + 170 * k, k * 0.35, -20, flip)
    _fish(pen, rng, pal)
    pen.place(ox, oy, k, 0, flip)


def _salt(pen: _Pen, rng: random.Random, pal: Palette) -> None:
    tray = _hex("#8a5a2b")
    salt = _hex("#f4f4ef")
    crystal = _hex("#c9d6df")
    pen.ellipse(0, 175, 270, 55, _mix(tray, BLACK, 0.2))
    pen.ellipse(0, 160, 260, 50, tray)
    pen.poly([(-220, 160), (220, 160), *_arc_points(0, 160, 220, 230, 0, -180, 24)], salt)
    pen.poly([(40, 160), (220, 160), *_arc_points(0, 160, 220, 230, 0, -60, 10)], crystal)
    for _ in range(18):
        x, y = rng.uniform(-150, 150), rng.uniform(-20, 140)
        pen.poly(_ellipse_points(x, y, 11, 11, 4), _mix(crystal, WHITE, 0.3))
    pen.line([(150, -110), (300, -230)], tray, 18)
    pen.ellipse(120, -90, 60, 35, _mix(tray, WHITE, 0.15))
    pen.ellipse(120, -96, 44, 22, salt)


def _chili_jar(pen: _Pen, rng: random.Random, pal: Palette) -> None:
    _jar(pen, rng, pal, _hex("#b91c1c"))
    pod = [(-70, 0), (-20, -22), (50, -18), (80, 0), (40, 16), (-40, 14)]
    for x, y, a in ((-210, 180, 20), (200, 170, -25)):
        pen.poly(_turned(pod, a, x, y), _hex("#d62828"))
        pen.line(_turned([(-70, 0), (-95, -12)], a, x, y), _hex("#2d6a4f"), 10)


def _sausages(pen: _Pen, rng: random.Random, pal: Palette) -> None:
    meat = _hex("#a4161a")
    for row, y in enumerate((-90, 30, 150)):
        for x in (-150, 0, 150):
            shift = 40 if row % 2 else 0
            pen.rect(x - 70 + shift, y - 32, x + 70 + shift, y + 32, meat, 32)
            pen.rect(x - 45 + shift, y - 20, x + 20 + shift, y - 10, _mix(meat, WHITE, 0.35), 5)
            pen.line([(x + 70 + shift, y), (x + 82 + shift, y)], _hex("#eee2c0"), 6)


def _crackers(pen: _Pen, rng: random.Random, pal: Palette) -> None:
    for i, (x, y) in enumerate(((-120, 60), (110, 40), (0, -60), (-40, 150), (140, 160))):
        tone = _mix(_hex("#fbe7c6"), _hex("#f4a9a8"), 0.25 * (i % 3))
        r = 105 if i == 2 else 90
        pen.poly(
            [
                (
                    x + (r + 6 * math.sin(7 * t)) * math.cos(t),
                    y + (r + 6 * math.sin(7 * t)) * math.sin(t),
                )
                for t in (2 * math.pi * s / 40 for s in range(40))
            ],
            tone,
        )
        for _ in range(5):
            pen.circle(x + rng.uniform(-50, 50), y + rng.uniform(-50, 50), 7, _hex("#f08a5d"))


def _sack(pen: _Pen, rng: random.Random, pal: Palette) -> None:
    cloth = _hex("#e9dcc0")
    pen.poly([(-170, -130), (-120, -170), (120, -170), (170, -130), (200, 190), (-200, 190)], cloth)
    pen.poly([(-120, -170), (120, -170), (95, -215), (-95, -215)], _mix(cloth, pal.dark, 0.1))
    pen.rect(-130, -180, 130, -155, _hex("#8a5a2b"), 10)
    pen.rect(-110, -10, 110, 110, _mix(cloth, pal.top, 0.35), 20)
    pen.star(0, 50, 40, 17, pal.accent)
    for _ in range(22):
        x, y, a = rng.uniform(-260, 260), rng.uniform(180, 240), rng.uniform(0, 180)
        pen.poly(_turned(_ellipse_points(0, 0, 16, 7, 10), a, x, y), _hex("#faf3e0"))


def _fruits(pen: _Pen, rng: random.Random, pal: Palette) -> None:
    crown = _hex("#3a7d44")
    for a in (-40, -20, 0, 20, 40):
        rad = math.radians(a - 90)
        tip = (150 * math.cos(rad), -110 + 150 * math.sin(rad))
        pen.poly([(-20, -110), tip, (20, -110)], _mix(crown, WHITE, 0.1 if a % 40 else 0))
    body = _hex("#f4b942")
    pen.ellipse(0, 50, 115, 160, body)
    for k in range(-4, 5):
        pen.line([(-110, 50 + k * 40 - 60), (110, 50 + k * 40 + 60)], _mix(body, pal.dark, 0.25), 5)
        pen.line([(-110, 50 + k * 40 + 60), (110, 50 + k * 40 - 60)], _mix(body, pal.dark, 0.25), 5)
    pen.circle(-190, 170, 60, _hex("#8bc34a"))
    pen.circle(-190, 170, 45, _mix(_hex("#8bc34a"), WHITE, 0.3))
    pen.circle(190, 180, 55, _hex("#2e7d32"))
    pen.circle(205, 165, 14, _mix(_hex("#2e7d32"), WHITE, 0.4))


def _greens(pen: _Pen, rng: random.Random, pal: Palette) -> None:
    # Leaves fan out from the tie at (0, 200): each is drawn pointing up, then turned.
    leaf = [(0, 0), (-38, -140), (-30, -320), (0, -430), (30, -320), (38, -140)]
    for i, a in enumerate(range(-50, 51, 20)):
        tone = _mix(_hex("#2d6a4f"), _hex("#95d5b2"), (i % 3) / 3)
        pen.poly(_turned(leaf, a + rng.uniform(-4, 4), 0, 200), tone)
        pen.line(_turned([(0, 0), (0, -400)], a, 0, 200), _mix(tone, WHITE, 0.4), 4)
    pen.rect(-50, 120, 50, 160, pal.accent, 10)


def _generic(pen: _Pen, rng: random.Random, pal: Palette) -> None:
    _gift_box(pen, rng, pal)


MOTIFS: dict[str, Motif] = {
    "tom-tuoi": _shrimp,
    "cua-ghe": _crab,
    "ca-tuoi": _fish,
    "muc-tuoi": _squid,
    "ngheu-so-oc": _clams,
    "kho-ca": _dried_fish,
    "tom-kho": _dried_shrimp_bowl,
    "kho-muc": lambda pen, rng, pal: _squid(pen, rng, pal, _hex("#f1dcb4")),
    "mam-ba-khia": lambda pen, rng, pal: _jar(pen, rng, pal, _hex("#9c6644")),
    "cha-ca-banh-phong-tom": _crackers,
    "cha-bong-lap-xuong": _sausages,
    "gao": _sack,
    "trai-cay": _fruits,
    "rau-cu": _greens,
    "mat-ong": _honey,
    "phan-hoa-sua-ong-chua": _pollen,
    "tinh-dau-tram": _dropper_bottle,
    "ocop-3-sao": _ocop_badge(3),
    "ocop-4-sao": _ocop_badge(4),
    "ocop-5-sao": _ocop_badge(5),
    "dan-lat-lac": _basket("#d4b483"),
    "dan-bang": _basket("#b5a36b"),
    "dan-luc-binh": _basket("#9c7a4a"),
    "do-go-my-nghe": _boat,
    "ruou-dac-san": _bottle,
    "tra-thao-moc": _teacup,
    "nuoc-giai-khat": _glass,
    "hop-qua-dac-san": _gift_box,
    "gio-qua-tet": _gift_basket,
    "qua-luu-niem": _landmark,
    "banh-truyen-thong": _banh_tet,
    "mut-keo": _candies,
    "do-an-vat": _snack_bag,
    "nuoc-mam": _sauce_bottle,
    "muoi": _salt,
    "sa-te-nuoc-cham": _chili_jar,
}


def _category_keys() -> tuple[dict[str, str], dict[str, str]]:
    """Map every slug to its top-level slug, and every top-level slug to its first leaf."""
    top_of: dict[str, str] = {}
    first_leaf: dict[str, str] = {}
    for parent, spec in iter_categories():
        top = spec.slug if parent is None else parent.slug
        top_of[spec.slug] = top
        if parent is not None:
            first_leaf.setdefault(top, spec.slug)
    return top_of, first_leaf


_TOP_OF, _FIRST_LEAF = _category_keys()


# --- Backgrounds and decorations ----------------------------------------------------------


def _gradient(size: tuple[int, int], top: RGB, bottom: RGB, radial: bool) -> Image.Image:
    """Return a top-to-bottom (or centre-out) gradient, built small and stretched (fast)."""
    if radial:
        mask = Image.radial_gradient("L")
        lut = [round(top[c] + (bottom[c] - top[c]) * i / 255) for c in range(3) for i in range(256)]
        small = Image.merge("RGB", (mask, mask, mask)).point(lut)
        small = small.resize((size[0] // 4, size[1] // 4), Image.Resampling.BILINEAR)
        return small.resize(size, Image.Resampling.NEAREST)
    strip = Image.new("RGB", (1, 256))
    strip.putdata([_mix(top, bottom, i / 255) for i in range(256)])
    return strip.resize(size, Image.Resampling.NEAREST)


def _decorate(pen: _Pen, rng: random.Random, pal: Palette, top: str, size: int) -> None:
    pen.place(0, 0)
    tint = _mix(pal.top, pal.light, 0.35)
    kind = rng.choice(("dots", "bubbles", "sparkles", "waves", "confetti", "leaves"))
    if top == "hai-san-tuoi-dong-lanh":
        kind = rng.choice(("bubbles", "waves"))
    elif top == "mat-ong-san-pham-rung":
        kind = rng.choice(("hexes", "dots"))
    elif top in ("qua-tang-hop-qua", "san-pham-ocop"):
        kind = rng.choice(("confetti", "sparkles"))
    spots = [(rng.uniform(0, size), rng.uniform(0, size)) for _ in range(14)]
    for x, y in spots:
        if 0.18 * size < x < 0.82 * size and 0.15 * size < y < 0.85 * size:
            continue  # keep the middle for the product
        if kind == "bubbles":
            r = rng.uniform(8, 26)
            pen.ring(x, y, r, r, tint, 4)
        elif kind == "dots":
            pen.circle(x, y, rng.uniform(5, 14), tint)
        elif kind == "sparkles":
            pen.star(x, y, rng.uniform(12, 24), 4, tint, 4)
        elif kind == "waves":
            pen.line(_wave(x - 50, x + 50, y, 8, 1.5), tint, 6)
        elif kind == "confetti":
            color = rng.choice((pal.main, pal.accent, pal.light))
            strip = [(-12, -5), (12, -5), (12, 5), (-12, 5)]
            pen.poly(_turned(strip, rng.uniform(0, 180), x, y), color)
        elif kind == "hexes":
            pen.poly(_ellipse_points(x, y, 22, 22, 6), tint)
        else:
            leaf = _turned(_ellipse_points(0, 0, 24, 10, 12), rng.uniform(0, 180), x, y)
            pen.poly(leaf, _mix(pal.top, _hex("#6a994e"), 0.5))


def _jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=JPEG_QUALITY, optimize=False, progressive=False)
    return out.getvalue()


@lru_cache(maxsize=512)
def _render_product(category_slug: str, variant: int) -> bytes:
    top = _TOP_OF.get(category_slug, "")
    leaf = _FIRST_LEAF.get(category_slug, category_slug)
    motif = MOTIFS.get(leaf, _generic)
    base = PALETTES.get(top, DEFAULT_PALETTE)
    local = random.Random(f"picture:{category_slug}:{variant}")
    # Variants shade the palette a little so neighbours in a grid do not look cloned.
    shade = local.uniform(-0.12, 0.12)
    target = WHITE if shade > 0 else BLACK
    pal = Palette(
        _mix(base.top, target, abs(shade)),
        _mix(base.bottom, target, abs(shade)),
        base.disc,
        base.main,
        base.accent,
        base.dark,
        base.light,
    )
    ss = SUPERSAMPLE
    size = PICTURE_SIZE
    image = _gradient((size * ss, size * ss), pal.top, pal.bottom, local.random() < 0.3)
    pen = _Pen(image, ss)
    _decorate(pen, local, pal, top, size)
    cx = size / 2 + local.uniform(-30, 30)
    cy = size / 2 + local.uniform(-20, 25)
    disc = local.uniform(300, 340)
    pen.place(0, 0)
    pen.ellipse(cx, cy + disc * 0.78, disc * 0.8, disc * 0.12, _mix(pal.bottom, BLACK, 0.18))
    pen.circle(cx, cy, disc, _mix(pal.disc, pal.top, 0.08))
    pen.circle(cx, cy, disc * 0.86, pal.disc)
    scale = local.uniform(0.95, 1.12)
    angle = local.uniform(-10, 10) if not leaf.startswith("ocop") else 0
    flip = local.random() < 0.5 and not leaf.startswith("ocop")
    pen.place(cx, cy, scale, angle, flip)
    motif(pen, local, pal)
    if ss > 1:
        image = image.reduce(ss)
    return _jpeg(image)


def product_picture(rng: random.Random, category_slug: str, variant: int) -> bytes:
    """Return an 800×800 JPEG for a product in ``category_slug`` (``rng`` is not drawn from).

    The picture depends only on ``(category_slug, variant)``; top-level slugs get their
    first leaf's motif, unknown slugs a neutral gift box.
    """
    del rng  # see the module docstring: pictures must not shift the seeded data
    return _render_product(category_slug, int(variant))


# --- Shop logo and banner -----------------------------------------------------------------

LOGO_COLORS: tuple[RGB, ...] = tuple(
    _hex(code)
    for code in (
        "#0f4c75",
        "#1d6f42",
        "#b5651d",
        "#9d0208",
        "#6a4c93",
        "#e76f51",
        "#2a9d8f",
        "#c1121f",
        "#3a5a40",
        "#d4a017",
        "#264653",
        "#8d5a2b",
    )
)


@lru_cache(maxsize=8)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def ascii_initials(text: str, limit: int = 2) -> str:
    """Fold ``text`` to ASCII capitals: "Út Hiền" → "UH"; words give their first letter."""
    words = [word for word in fold(text).upper().split() if word[:1].isalnum()]
    if len(words) == 1:
        return "".join(ch for ch in words[0] if ch.isalnum())[:limit]
    return "".join(word[0] for word in words)[:limit]


@lru_cache(maxsize=512)
def _render_logo(initials: str, color_index: int) -> bytes:
    ss = SUPERSAMPLE
    size = LOGO_SIZE * ss
    color = LOGO_COLORS[color_index]
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    margin = 8 * ss
    draw.ellipse((margin, margin, size - margin, size - margin), fill=(*color, 255))
    ring = 28 * ss
    draw.ellipse(
        (ring, ring, size - ring, size - ring),
        outline=(*_mix(color, WHITE, 0.55), 255),
        width=6 * ss,
    )
    text = initials or "?"
    font = _font((170 if len(text) <= 2 else 120) * ss)
    draw.text((size / 2, size / 2), text, fill=(255, 255, 255, 255), font=font, anchor="mm")
    image = image.reduce(ss) if ss > 1 else image
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=6)
    return out.getvalue()


def shop_logo(rng: random.Random, initials: str) -> bytes:
    """Return a 400×400 PNG badge: a coloured disc (one draw from ``rng``) with initials.

    ``initials`` is folded to ASCII capitals (at most 3); pass a whole name through
    :func:`ascii_initials` first to get two letters.
    """
    color_index = rng.randrange(len(LOGO_COLORS))
    text = "".join(ch for ch in fold(initials).upper() if ch.isascii() and ch.isalnum())[:3]
    return _render_logo(text, color_index)


_SKIES: tuple[tuple[str, str, str], ...] = (
    ("#ffb347", "#ffcc80", "#1b4965"),  # late afternoon, river in shadow
    ("#8ecae6", "#d9f0ff", "#126782"),  # clear morning
    ("#f08080", "#ffd6a5", "#355070"),  # sunset
    ("#a8dadc", "#f1faee", "#1d3557"),  # hazy noon
)


@lru_cache(maxsize=BANNER_SCENES)
def _render_banner(scene: int) -> bytes:
    local = random.Random(f"banner:{scene}")
    sky_top, sky_bottom, water = (_hex(c) for c in _SKIES[scene % len(_SKIES)])
    width, height = BANNER_SIZE
    ss = SUPERSAMPLE
    image = _gradient((width * ss, height * ss), sky_top, sky_bottom, False)
    pen = _Pen(image, ss)
    sun_x = local.uniform(150, width - 150)
    pen.circle(sun_x, local.uniform(90, 150), 60, _mix(sky_bottom, WHITE, 0.6))
    horizon = height * 0.62
    # Mangrove line: trunks on stilt roots under round canopies.
    forest = _mix(water, _hex("#2d6a4f"), 0.55)
    x = -40.0
    while x < width + 60:
        r = local.uniform(38, 70)
        top = horizon - local.uniform(40, 110)
        pen.circle(x, top, r, forest)
        pen.line([(x, top), (x, horizon)], _mix(forest, BLACK, 0.2), 8)
        for dx in (-26, -10, 10, 26):
            pen.line([(x, horizon - 30), (x + dx, horizon)], _mix(forest, BLACK, 0.2), 5)
        x += local.uniform(55, 95)
    pen.poly([(0, horizon), (width, horizon), (width, height), (0, height)], water)
    for row in range(5):
        y = horizon + 22 + row * 26
        pen.line(_wave(0, width, y, 4, 9 + row), _mix(water, WHITE, 0.25 - row * 0.03), 4)
    boat_x = local.uniform(200, width - 200)
    pen.place(boat_x, horizon + 40, 0.35, 0, local.random() < 0.5)
    wood = _mix(water, BLACK, 0.45)
    pen.poly([(-250, 40), (260, 40), (190, 110), (-190, 110)], wood)
    pen.rect(-60, -30, 80, 40, _mix(wood, WHITE, 0.15), 10)
    if ss > 1:
        image = image.reduce(ss)
    return _jpeg(image)


def shop_banner(rng: random.Random) -> bytes:
    """Return a 1200×400 JPEG river-and-mangrove scene (one draw from ``rng``)."""
    return _render_banner(rng.randrange(BANNER_SCENES))
