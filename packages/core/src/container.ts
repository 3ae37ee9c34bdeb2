import { Container, type ContainerModule } from 'inversify';

/** A container with the given package modules loaded (later modules may rebind). */
export function createContainer(...modules: ContainerModule[]): Container {
  const c = new Container({ defaultScope: 'Singleton' });
  if (modules.length) c.load(...modules);
  return c;
}
