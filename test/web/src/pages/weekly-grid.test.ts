import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { emptyGrid, gridOfHours, paint, weeklyOfGrid } from '../../../../web/src/pages/weekly-grid';
import { weeklyHours } from '../../../../src/app/recording/schedule';

test('a painted grid is written in the weekly syntax the server reads', () => {
  let grid = paint(emptyGrid(), { day: 0, hour: 8 }, { day: 4, hour: 17 }, true);
  grid = paint(grid, { day: 5, hour: 10 }, { day: 5, hour: 11 }, true);
  grid = paint(grid, { day: 2, hour: 12 }, { day: 2, hour: 12 }, false);
  assert.equal(weeklyOfGrid(grid), 'mon,tue,thu,fri 08:00-18:00; wed 08:00-12:00, 13:00-18:00; sat 10:00-12:00');
  assert.equal(weeklyOfGrid(paint(emptyGrid(), { day: 0, hour: 0 }, { day: 6, hour: 23 }, true)), 'mon-sun 00:00-24:00');
  assert.equal(weeklyOfGrid(emptyGrid()), '');
});

test('the server reads a night shift past midnight into the next morning of the grid', () => {
  const grid = gridOfHours(weeklyHours('sun 22:00-06:00'));
  assert.deepEqual(grid[6]!.map(Number).join(''), '000000000000000000000011');
  assert.deepEqual(grid[0]!.map(Number).join(''), '111111000000000000000000');
  assert.ok(gridOfHours(weeklyHours('mon 08:30-09:10'))[0]![9], 'a partly covered hour shows as recording');
});

test('property: grid -> weekly text -> the server parser -> grid is the same grid', () => {
  const grids = fc.array(fc.array(fc.boolean(), { minLength: 24, maxLength: 24 }), { minLength: 7, maxLength: 7 });
  fc.assert(
    fc.property(grids, (grid) => {
      const text = weeklyOfGrid(grid);
      if (!text) return assert.ok(grid.every((row) => row.every((on) => !on)));
      assert.deepEqual(gridOfHours(weeklyHours(text)), grid, text);
    }),
    { numRuns: 300 },
  );
});
