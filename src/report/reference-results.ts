// Published reference figures shown beside our rows by `mgdarts report`. Each figure carries the source it was
// read from, quoted as the source states it; a figure that could not be read from a source stays null (SPEC §6.1:
// MG-DARTS's own table figures were not available, so its errors and costs are null).

/** A figure and where it was read. `secondary`: a site quoting the paper, not the paper itself. */
export interface SourcedFigure {
  value: number;
  /** ± as the source states it, when it does. */
  std?: number;
  source: string;
  secondary?: boolean;
}

export interface ReferenceResult {
  method: string;
  dataset: string;
  search_space: string;
  /** Test error (%) as the source reports it (which epoch it is, the source decides). */
  test_error: SourcedFigure | null;
  /** Dense parameters (millions). */
  params_m: SourcedFigure | null;
  /** Search cost in GPU-hours (a figure given in GPU-days is × 24). */
  search_gpu_hours: SourcedFigure | null;
}

const DARTS = 'DARTS, Liu et al., ICLR 2019, arXiv 1806.09055';
const PC_DARTS = 'PC-DARTS, Xu et al., ICLR 2020, arXiv 1907.05737';
const P_DARTS = 'P-DARTS, Chen et al., ICCV 2019, arXiv 1904.12760';
const FAIR_DARTS = 'Fair DARTS, Chu et al., ECCV 2020, arXiv 1911.12126';
const SPEC_62 = 'SPEC §6.2: dense parameters counted from the released genotypes (cifar_train/genotypes), without the aux head, before weight masks';

export const REFERENCE_RESULTS: readonly ReferenceResult[] = [
  {
    method: 'DARTS (2nd order)', dataset: 'cifar10', search_space: 'darts_like',
    test_error: { value: 2.76, std: 0.09, secondary: true, source: `${DARTS}: "2.76 +/- 0.09", second order, CIFAR10, the "In paper" column of the NNI documentation page "DARTS on NNI" (docs/en_US/NAS/DARTS.md)` },
    params_m: null,
    search_gpu_hours: null,
  },
  {
    method: 'PC-DARTS', dataset: 'cifar10', search_space: 'darts_like',
    test_error: { value: 2.57, source: `${PC_DARTS}, abstract: "an error rate of 2.57% on CIFAR10"` },
    params_m: { value: 3.6, secondary: true, source: `${PC_DARTS}: "Parameters 3.6M", Papers with Code results of the paper, CIFAR-10` },
    search_gpu_hours: { value: 2.4, source: `${PC_DARTS}, abstract: "merely 0.1 GPU-days for architecture search" (0.1 × 24 h)` },
  },
  {
    method: 'P-DARTS', dataset: 'cifar10', search_space: 'darts_like',
    test_error: null,
    params_m: null,
    search_gpu_hours: { value: 7, source: `${P_DARTS}, abstract: "a significantly reduced search time (7 hours on a single GPU)"` },
  },
  {
    method: 'FairDARTS-a', dataset: 'cifar10', search_space: 'darts_like',
    test_error: { value: 2.54, secondary: true, source: `${FAIR_DARTS}: "Top-1 Error Rate 2.54%", FairDARTS-a, Papers with Code results of the paper, CIFAR-10` },
    params_m: { value: 2.8, secondary: true, source: `${FAIR_DARTS}: "Parameters 2.8M", FairDARTS-a, Papers with Code results of the paper, CIFAR-10` },
    search_gpu_hours: { value: 6, secondary: true, source: `${FAIR_DARTS}: "Search Time (GPU days) 0.25", FairDARTS-a, Papers with Code results of the paper (0.25 × 24 h)` },
  },
  {
    method: 'MG-DARTS (released MG_DARTS, C=44, 14 cells)', dataset: 'cifar10', search_space: 'darts_like',
    test_error: null, params_m: { value: 2.29, source: `${SPEC_62}, 10 classes: ≈2.29 M` }, search_gpu_hours: null,
  },
  {
    method: 'MG-DARTS (released MG_DARTS_small, C=24, 8 cells)', dataset: 'cifar10', search_space: 'darts_like',
    test_error: null, params_m: { value: 0.7, source: `${SPEC_62}, 10 classes: ≈0.70 M` }, search_gpu_hours: null,
  },
  {
    method: 'MG-DARTS (released MG_DARTS, transferred)', dataset: 'cifar100', search_space: 'darts_like',
    test_error: null, params_m: { value: 2.35, source: `${SPEC_62}, 100 classes: ≈2.35 M` }, search_gpu_hours: null,
  },
  {
    method: 'MG-DARTS (released MG_DARTS_small, transferred)', dataset: 'cifar100', search_space: 'darts_like',
    test_error: null, params_m: { value: 0.74, source: `${SPEC_62}, 100 classes: ≈0.74 M` }, search_gpu_hours: null,
  },
];
