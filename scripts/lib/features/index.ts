export * from './matrix';
export * from './store';
export * from './csv';
