import { DataTypes, type Model, type ModelStatic, type Sequelize } from 'sequelize';

/**
 * A model's rows read by a plain statement (`sequelize.query` with replacements) and made into
 * instances, for reads on every request: `findByPk` builds its SELECT, clones its options and parses
 * each value through Sequelize's types at every call, several times the cost of the statement's own
 * work in the driver. The instance is the one `findByPk` gives (same values, nothing changed, not new),
 * so `update()` and the getters work on it as on any other.
 *
 * `columns` is the SELECT list of the model's attributes on the table aliased `alias`, each as
 * `<alias>_<attribute>` (the names of a row from one statement over several tables); `read(row)` the
 * instance, or null when the row holds none (a LEFT JOIN that found nothing).
 */
export class PlainReader<M extends Model> {
  readonly columns: string;
  private readonly attributes: Array<{ name: string; key: string; column: string; parse: (value: unknown) => unknown }>;
  private readonly primaryKey: string;

  /** Throws for an attribute type read() cannot parse as Sequelize would (only strings, numbers, booleans and dates). */
  constructor(
    private readonly model: ModelStatic<M>,
    sequelize: Sequelize,
    alias: string,
    { exclude = [] }: { exclude?: readonly string[] } = {},
  ) {
    const quote = (name: string) => sequelize.getQueryInterface().quoteIdentifier(name);
    this.attributes = Object.entries(model.getAttributes())
      .filter(([name]) => !exclude.includes(name))
      .map(([name, attribute]) => {
        const key = `${alias}_${name}`;
        return { name, key, column: `${quote(alias)}.${quote(attribute.field ?? name)} AS ${quote(key)}`, parse: parserOf(model.name, name, attribute.type) };
      });
    this.columns = this.attributes.map(({ column }) => column).join(', ');
    this.primaryKey = `${alias}_${model.primaryKeyAttribute}`;
  }

  read(row: Record<string, unknown>): M | null {
    if (row[this.primaryKey] === null || row[this.primaryKey] === undefined) return null;
    const values: Record<string, unknown> = {};
    for (const { name, key, parse } of this.attributes) values[name] = parse(row[key]);
    return this.model.build(values as M['_creationAttributes'], { raw: true, isNewRecord: false });
  }
}

const asIs = (value: unknown) => value;
/** SQLite gives dates as text and booleans as 0/1; MariaDB's driver gives Dates and 0/1. */
const asDate = (value: unknown) => (value === null || value === undefined ? null : new Date(value as string | Date));
const asBoolean = (value: unknown) => (value === null || value === undefined ? null : Boolean(Number(value)));

function parserOf(model: string, name: string, type: unknown): (value: unknown) => unknown {
  if (type instanceof DataTypes.DATE) return asDate;
  if (type instanceof DataTypes.BOOLEAN) return asBoolean;
  if (type instanceof DataTypes.STRING || type instanceof DataTypes.TEXT || type instanceof DataTypes.INTEGER) return asIs;
  throw new TypeError(`${model}.${name}: a plain read of this type is not supported`);
}
