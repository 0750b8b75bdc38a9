import { formatRatio, median, pairedRatios, quantile, rotate, summarise } from '../../bench/lib/stats';

describe('bench statistics', () => {
  it('interpolates quantiles between ranks', () => {
    expect(quantile([4, 1, 3, 2], 0.5)).toBe(2.5);
    expect(quantile([1, 2, 3, 4], 0.25)).toBe(1.75);
    expect(quantile([1, 2, 3, 4], 1)).toBe(4);
    expect(median([7])).toBe(7);
    expect(median([])).toBeNaN();
  });

  it('pairs ratios round by round before summarising them', () => {
    // Round by round: 2/1, 10/5, 3/6 → median 2 (the ratio of the two medians would be 3/5 = 0.6).
    expect(pairedRatios([2, 10, 3], [1, 5, 6]).median).toBe(2);
    expect(() => pairedRatios([1], [1, 2])).toThrow(/as many/);
  });

  it('rotates the order of variants every round', () => {
    expect(rotate(['a', 'b', 'c'], 1)).toEqual(['b', 'c', 'a']);
    expect(rotate(['a', 'b', 'c'], 4)).toEqual(['b', 'c', 'a']);
    expect(rotate([], 3)).toEqual([]);
  });

  it('formats a ratio with its interquartile range', () => {
    expect(formatRatio(summarise([1, 1.1, 1.2, 1.3, 1.4]))).toBe('1.20× (1.10–1.30)');
  });
});
