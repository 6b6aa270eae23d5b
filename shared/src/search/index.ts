export * from './profile-search';
