// Published reference figures shown beside our rows by `mgdarts report`. Each figure carries the source it was
// read from, quoted as the source states it; a figure that could not be read from a source stays null (SPEC §6.1:
// MG-DARTS's own table figures were not available, so its errors and costs are null).

/** A figure and where it was read. `secondary`: read from a third party quoting or counting it, not from the paper
 * or its authors' code. */
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
  /** Search cost in GPU-hours (a figure given in GPU-days is × 24); `device` where the source names the GPU. */
  search_gpu_hours: (SourcedFigure & { device?: string }) | null;
}

const DARTS = 'DARTS, Liu et al., ICLR 2019, arXiv 1806.09055';
const PC_DARTS = 'PC-DARTS, Xu et al., ICLR 2020, arXiv 1907.05737';
const P_DARTS = 'P-DARTS, Chen et al., ICCV 2019, arXiv 1904.12760';
const FAIR_DARTS = 'Fair DARTS, Chu et al., ECCV 2020, arXiv 1911.12126';
// The authors' own repositories state their headline figures in their READMEs.
const DARTS_README = 'README of the authors\' code, github.com/quark0/darts';
const PC_DARTS_README = 'README of the authors\' code, github.com/yuhuixu1993/PC-DARTS, "Results on CIFAR10" table';
const P_DARTS_README = 'README of the authors\' code, github.com/chenxin061/pdarts';
const FAIR_DARTS_README = 'README of the authors\' code, github.com/xiaomi-automl/FairDARTS';
const SPEC_62 = 'SPEC §6.2: dense parameters counted from the released genotypes (cifar_train/genotypes), without the aux head, before weight masks';

export const REFERENCE_RESULTS: readonly ReferenceResult[] = [
  {
    method: 'DARTS (2nd order)', dataset: 'cifar10', search_space: 'darts_like',
    test_error: { value: 2.76, std: 0.09, source: `${DARTS}, ${DARTS_README}: "The CIFAR-10 result at the end of training is subject to variance [...] By training our best cell from scratch, one should expect the average test error of 10 independent runs to fall in the range of 2.76 +/- 0.09% with high probability" (the final epoch's error; DARTSV2 in PC-DARTS's table)` },
    params_m: { value: 3.3, secondary: true, source: `${DARTS}, as the ${PC_DARTS} ${PC_DARTS_README} lists it: "DARTSV2 | 3.3 | 2.76 | 1.0"` },
    search_gpu_hours: { value: 24, secondary: true, source: `${DARTS}, as the ${PC_DARTS} ${PC_DARTS_README} lists it: search cost 1.0 GPU-days (1.0 × 24 h)` },
  },
  {
    method: 'PC-DARTS', dataset: 'cifar10', search_space: 'darts_like',
    test_error: { value: 2.57, source: `${PC_DARTS}, abstract: "an error rate of 2.57% on CIFAR10"; ${PC_DARTS_README}: "PC-DARTS | 3.6 | 2.57 | 0.1"` },
    params_m: { value: 3.6, source: `${PC_DARTS}, ${PC_DARTS_README}: Params(M) 3.6` },
    search_gpu_hours: { value: 2.4, source: `${PC_DARTS}, abstract: "merely 0.1 GPU-days for architecture search" (0.1 × 24 h)` },
  },
  {
    method: 'P-DARTS', dataset: 'cifar10', search_space: 'darts_like',
    test_error: null,
    params_m: { value: 3.43, secondary: true, source: `${P_DARTS}, as the ${FAIR_DARTS} ${FAIR_DARTS_README} counts its published cell: "PDARTS | 532M | 3.43"` },
    search_gpu_hours: { value: 7, device: 'P100', source: `${P_DARTS}, abstract: "7 hours on a single GPU"; ${P_DARTS_README}: "0.3 GPU-days (7 hours on a single P100 card)"` },
  },
  {
    method: 'FairDARTS-a', dataset: 'cifar10', search_space: 'darts_like',
    test_error: { value: 2.54, source: `${FAIR_DARTS}, ${FAIR_DARTS_README}: "FairDARTS_a | 373M | 2.83M | 97.46" (accuracy 97.46 %, so error 2.54 %)` },
    params_m: { value: 2.83, source: `${FAIR_DARTS}, ${FAIR_DARTS_README}: FairDARTS_a Params 2.83M` },
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
