// Default layouts of the MobileNet-like space: MobileNetV2's widths and strides for ImageNet at 224 px
// (its expansion-1 first block searched like the others), and a tiny variant that searches on CPU in seconds.

export interface MobileNetBlock {
  channels: number;
  stride: 1 | 2;
  repeat: number;
}

export interface MobileNetPreset {
  stem_channels: number;
  blocks: MobileNetBlock[];
  head_channels: number;
  aux_channels: number;
}

export const MOBILENET_PRESETS: Record<'imagenet_224' | 'tiny', MobileNetPreset> = {
  imagenet_224: {
    stem_channels: 32,
    blocks: [
      { channels: 16, stride: 1, repeat: 1 },
      { channels: 24, stride: 2, repeat: 2 },
      { channels: 32, stride: 2, repeat: 3 },
      { channels: 64, stride: 2, repeat: 4 },
      { channels: 96, stride: 1, repeat: 3 },
      { channels: 160, stride: 2, repeat: 3 },
      { channels: 320, stride: 1, repeat: 1 },
    ],
    head_channels: 1280,
    aux_channels: 128,
  },
  tiny: {
    stem_channels: 8,
    blocks: [
      { channels: 8, stride: 1, repeat: 1 },
      { channels: 16, stride: 2, repeat: 2 },
      { channels: 24, stride: 2, repeat: 2 },
    ],
    head_channels: 64,
    aux_channels: 32,
  },
};
