// TypeDoc plugin: leave out class members that come from outside the package (Error's stack, TF.js Layer's
// hundred methods), so that docs/api shows what unet-transfer itself adds. Members a class declares or
// overrides in src/ stay, with their "Overrides" line.
import { Converter, ReflectionKind } from 'typedoc';

const MEMBER = ReflectionKind.Property | ReflectionKind.Method | ReflectionKind.Accessor;

/** @param {import('typedoc').Application} app */
export function load(app) {
  app.converter.on(Converter.EVENT_CREATE_DECLARATION, (context, reflection) => {
    if (!reflection.kindOf(MEMBER)) return;
    const declarations = context.getSymbolFromReflection(reflection)?.declarations ?? [];
    const external = declarations.length > 0 && declarations.every((d) => d.getSourceFile().fileName.includes('/node_modules/'));
    if (external) context.project.removeReflection(reflection);
  });
}
