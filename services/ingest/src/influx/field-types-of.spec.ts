import { fieldTypesOf } from './influx.client.js';

describe('fieldTypesOf', () => {
  it('reads SHOW FIELD KEYS of several measurements; a field listed twice (shards written differently) keeps both types', () => {
    const t = fieldTypesOf([
      { name: 'm', columns: ['fieldKey', 'fieldType'], values: [['f', 'float'], ['f', 'integer'], ['s', 'string']] },
      { name: 'n', columns: ['fieldKey', 'fieldType'], values: [['g', 'integer']] },
    ]);
    expect([...t.get('m')!.get('f')!]).toEqual(['float', 'integer']);
    expect([...t.get('m')!.get('s')!]).toEqual(['string']);
    expect([...t.get('n')!.get('g')!]).toEqual(['integer']);
  });
});
