// The basketball (NBA) feature builder: pure TypeScript (no Node or Worker APIs), so the training export uses it
// now and the Worker can serve from it later with the same vectors. Football's builder is ../ (version v1).
export * from './names';
export * from './venues';
export * from './build';
export * from './games';
