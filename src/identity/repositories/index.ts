// All identity repositories over one store.
import type { Store } from '../../store/database.ts';
import { ApiTokensRepository } from './api-tokens.ts';
import { LoginSourcesRepository } from './login-sources.ts';
import { PasswordHistoryRepository } from './password-history.ts';
import { RoleGrantsRepository } from './role-grants.ts';
import { SessionsRepository } from './sessions.ts';
import { SettingsRepository } from './settings.ts';
import { UsersRepository } from './users.ts';
import { WebauthnCredentialsRepository } from './webauthn-credentials.ts';

export interface IdentityRepositories {
  users: UsersRepository;
  passwordHistory: PasswordHistoryRepository;
  roleGrants: RoleGrantsRepository;
  sessions: SessionsRepository;
  webauthnCredentials: WebauthnCredentialsRepository;
  apiTokens: ApiTokensRepository;
  settings: SettingsRepository;
  loginSources: LoginSourcesRepository;
}

export function identityRepositories(store: Store): IdentityRepositories {
  const db = store.db;
  return {
    users: new UsersRepository(db),
    passwordHistory: new PasswordHistoryRepository(db),
    roleGrants: new RoleGrantsRepository(db),
    sessions: new SessionsRepository(db),
    webauthnCredentials: new WebauthnCredentialsRepository(db),
    apiTokens: new ApiTokensRepository(db),
    settings: new SettingsRepository(db),
    loginSources: new LoginSourcesRepository(db),
  };
}
