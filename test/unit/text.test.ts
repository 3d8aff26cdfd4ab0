import { expect } from 'chai';
import { breakableHtml, breakableWithin } from '../../src/lib/text';

describe('breakableHtml', function () {
  it('should let a username wrap only after "/", "@" and ".", escaped', function () {
    expect(breakableHtml('a.b/c@d.it')).to.equal('a.<wbr>b/<wbr>c@<wbr>d.<wbr>it');
    expect(breakableHtml('x<y&z.it')).to.equal('x&lt;y&amp;z.<wbr>it');
  });
});

describe('breakableWithin', function () {
  it('should escape the sentence and make each value in it breakable', function () {
    const html = breakableWithin('Un link a mario@example.it, per "mario.rossi/studio@pec.it" & co.', ['mario@example.it', 'mario.rossi/studio@pec.it']);
    expect(html).to.equal('Un link a mario@<wbr>example.<wbr>it, per &quot;mario.<wbr>rossi/<wbr>studio@<wbr>pec.<wbr>it&quot; &amp; co.');
  });

  it('should make a username breakable whole when its mailbox is a value too', function () {
    expect(breakableWithin('nome/studio@pec.it', ['studio@pec.it', 'nome/studio@pec.it'])).to.equal('nome/<wbr>studio@<wbr>pec.<wbr>it');
  });

  it('should leave the sentence escaped when a value is empty or absent', function () {
    expect(breakableWithin('<b>a.b</b>', ['', 'c.d'])).to.equal('&lt;b&gt;a.b&lt;/b&gt;');
  });
});
